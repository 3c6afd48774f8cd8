//! Rules of relations between files (CUS-06): a group and its
//! subsidiaries form a tree, so a `parent_of` relation never closes a
//! cycle (a company is not its own parent, however many levels up).

use crate::ParseError;

/// Refuses making `parent` the parent of `child` when `child` is `parent`
/// itself or one of its ancestors (the inner error). `parents_of` gives a
/// file's direct parents (its active incoming `parent_of` relations); its
/// own failure is the outer error. The walk reads each ancestor once.
pub fn check_parent<E>(
    parent: &str,
    child: &str,
    mut parents_of: impl FnMut(&str) -> Result<Vec<String>, E>,
) -> Result<Result<(), ParseError>, E> {
    let mut seen: Vec<String> = vec![parent.to_owned()];
    let mut next = 0;
    while next < seen.len() {
        if seen[next] == child {
            return Ok(Err(ParseError::new(
                "relation_cycle",
                "the other file is already this file's parent or above it in the group",
            )));
        }
        for up in parents_of(&seen[next].clone())? {
            if !seen.contains(&up) {
                seen.push(up);
            }
        }
        next += 1;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(parent, child)` edges.
    fn tree<'a>(
        edges: &'a [(&'a str, &'a str)],
    ) -> impl FnMut(&str) -> Result<Vec<String>, std::convert::Infallible> + 'a {
        move |id| {
            Ok(edges
                .iter()
                .filter(|(_, c)| *c == id)
                .map(|(p, _)| (*p).to_owned())
                .collect())
        }
    }

    /// The rule's verdict on a tree that always reads.
    fn judged(parent: &str, child: &str, edges: &[(&str, &str)]) -> Result<(), ParseError> {
        match check_parent(parent, child, tree(edges)) {
            Ok(verdict) => verdict,
            Err(never) => match never {},
        }
    }

    #[test]
    fn r_cus_06_a_group_tree_has_no_cycles() {
        let edges = [("group", "branch"), ("branch", "shop"), ("other", "shop")];
        // A new subsidiary, or a second parent: fine.
        assert!(judged("shop", "kiosk", &edges).is_ok());
        assert!(judged("group", "shop", &edges).is_ok());
        // The shop above its own group: a cycle, however far up.
        assert_eq!(
            judged("shop", "group", &edges).err().map(|e| e.code),
            Some("relation_cycle")
        );
        assert_eq!(
            judged("shop", "branch", &edges).err().map(|e| e.code),
            Some("relation_cycle")
        );
        // A cycle already in the data does not loop the walk.
        let looped = [("a", "b"), ("b", "a")];
        assert!(judged("a", "c", &looped).is_ok());
    }
}
