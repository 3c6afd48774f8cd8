//! Approval authority (ORG-02, 核决权限): which role may approve what, up to
//! which amount. The rules are data, edited by administrators; this module
//! decides with them.

use crate::{Money, ParseError, Role, RuleId};

/// What is being approved: a short code such as `contract`,
/// `complaint_remedy`, `complaint_extension`, `grade_promotion`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApprovalSubject(String);

impl ApprovalSubject {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let ok = (2..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseError::new(
                "invalid_format",
                "a subject is 2 to 64 characters of a-z, 0-9 and '_', starting with a letter",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One line of the authority table: `role` may approve `subject` up to
/// `limit` inclusive (以下 includes the number); no limit means any amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRule {
    pub id: RuleId,
    pub subject: ApprovalSubject,
    pub role: Role,
    pub limit: Option<Money>,
}

impl ApprovalRule {
    /// Whether this rule lets its role approve this amount. A rule with a
    /// limit in another currency never matches: amounts are not converted.
    pub fn covers(&self, subject: &ApprovalSubject, amount: Option<Money>) -> bool {
        if &self.subject != subject {
            return false;
        }
        match (self.limit, amount) {
            (None, _) => true,
            // A capped rule cannot approve something whose amount is unknown.
            (Some(_), None) => false,
            (Some(limit), Some(a)) => limit.currency == a.currency && a.minor <= limit.minor,
        }
    }
}

/// The roles that may approve `subject` at `amount`, in role order.
pub fn approving_roles(
    rules: &[ApprovalRule],
    subject: &ApprovalSubject,
    amount: Option<Money>,
) -> Vec<Role> {
    let mut roles: Vec<Role> = rules
        .iter()
        .filter(|r| r.covers(subject, amount))
        .map(|r| r.role)
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// Whether someone holding `roles` may approve `subject` at `amount`.
pub fn may_approve(
    rules: &[ApprovalRule],
    roles: &[Role],
    subject: &ApprovalSubject,
    amount: Option<Money>,
) -> bool {
    rules
        .iter()
        .any(|r| roles.contains(&r.role) && r.covers(subject, amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn rule(subject: &str, role: Role, limit: Option<i64>) -> ApprovalRule {
        ApprovalRule {
            id: RuleId::new(),
            subject: ApprovalSubject::parse(subject).unwrap_or_else(|e| panic!("{e}")),
            role,
            limit: limit.map(Money::cny_fen),
        }
    }

    #[test]
    fn r_org_02_authority_depends_on_amount() {
        let contract = ApprovalSubject::parse("contract").unwrap_or_else(|e| panic!("{e}"));
        let rules = vec![
            rule("contract", Role::AccountManager, Some(400_000)),
            rule("contract", Role::Manager, Some(100_000_000)),
            rule("contract", Role::Admin, None),
        ];
        // 4,000 CNY is "以下": the account manager still may.
        let at = Some(Money::cny_fen(400_000));
        assert!(may_approve(&rules, &[Role::AccountManager], &contract, at));
        // One fen above needs contract approval by a manager.
        let above = Some(Money::cny_fen(400_001));
        assert!(!may_approve(
            &rules,
            &[Role::AccountManager],
            &contract,
            above
        ));
        assert_eq!(
            approving_roles(&rules, &contract, above),
            vec![Role::Admin, Role::Manager]
        );
        let huge = Some(Money::cny_fen(100_000_001));
        assert_eq!(approving_roles(&rules, &contract, huge), vec![Role::Admin]);
    }

    #[test]
    fn r_org_02_other_currency_and_unknown_amount_do_not_match_a_cap() {
        let contract = ApprovalSubject::parse("contract").unwrap_or_else(|e| panic!("{e}"));
        let rules = vec![rule("contract", Role::Manager, Some(1_000))];
        let usd = Currency::parse("USD").unwrap_or_else(|e| panic!("{e}"));
        assert!(!may_approve(
            &rules,
            &[Role::Manager],
            &contract,
            Some(Money {
                minor: 1,
                currency: usd
            })
        ));
        assert!(!may_approve(&rules, &[Role::Manager], &contract, None));
    }

    #[test]
    fn subjects_are_codes() {
        assert!(ApprovalSubject::parse("complaint_remedy").is_ok());
        assert!(ApprovalSubject::parse("Contract").is_err());
        assert!(ApprovalSubject::parse("9x").is_err());
    }
}
