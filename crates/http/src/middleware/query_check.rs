//! The query check: parameters the contract does not name are refused, and
//! so are names and values that are not UTF-8.
//!
//! A mistyped filter must not pass for no filter: `GET /customers/export?stauts=archived`
//! would otherwise export every file in sight, and a list would quietly
//! show more than was asked for. So a request naming a query parameter its
//! operation does not take is a 400 `invalid_query` naming the parameter
//! (`unknown_parameter`) and the ones it does take, before any handler
//! runs. The list of what each operation takes is the OpenAPI document's
//! own, generated from the handlers: the contract and the server cannot
//! disagree. Paths the contract does not describe (the docs) pass unchecked.
//!
//! A query's names and values are UTF-8 once percent-decoded, or the request
//! is a 400 `invalid_query` naming the parameter (`not_utf8`). Decoding them
//! leniently, as `form_urlencoded` does, turned a name sent in GBK by an
//! older system (`name=%D1%E0%BE%A9`, 燕京) into replacement characters and
//! searched for those: an empty answer where the caller needed an error.

use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};
use percent_encoding::percent_decode;
use std::collections::HashMap;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::{OpenApi, RefOr};

/// The query parameters of each operation, by path pattern and method
/// (looked up by the pattern as borrowed, with no key built a request).
pub struct QueryNames(HashMap<String, HashMap<Method, Vec<String>>>);

impl QueryNames {
    /// Reads them off the contract.
    pub fn of(spec: &OpenApi) -> Self {
        let mut map = HashMap::new();
        for (path, item) in &spec.paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            'ops: for (method, op) in ops {
                let Some(op) = op else { continue };
                let mut names = Vec::new();
                for p in op.parameters.iter().flatten() {
                    match p {
                        RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query) => {
                            names.push(p.name.clone());
                        }
                        RefOr::T(_) => {}
                        // Not one this contract has: the operation is left unchecked
                        // rather than checked against a list it cannot read whole.
                        RefOr::Ref(_) => continue 'ops,
                    }
                }
                map.entry(path.clone())
                    .or_insert_with(HashMap::new)
                    .insert(method, names);
            }
        }
        Self(map)
    }

    /// What `method` on `pattern` takes; `None` for what the contract does
    /// not describe.
    fn taken(&self, method: &Method, pattern: &str) -> Option<&[String]> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.0.get(pattern)?.get(method).map(Vec::as_slice)
    }

    /// The first parameter of `query` that is not UTF-8, or that `method`
    /// on `pattern` does not take, as the error that names it.
    pub fn check(&self, method: &Method, pattern: &str, query: &str) -> Result<(), ApiError> {
        let Some(taken) = self.taken(method, pattern) else {
            return Ok(());
        };
        if let Some(name) = not_utf8(query) {
            return Err(ApiError::bad_parameter(
                &name,
                "not_utf8",
                format!(
                    "query parameter `{name}` is not UTF-8 once percent-decoded \
                     (GBK from an older system?): percent-encode its UTF-8 bytes"
                ),
            ));
        }
        let unknown = form_urlencoded::parse(query.as_bytes())
            .map(|(name, _)| name)
            .find(|name| !taken.iter().any(|t| t == name));
        match unknown {
            None => Ok(()),
            Some(name) => {
                let takes = if taken.is_empty() {
                    "this operation takes no query parameters".to_owned()
                } else {
                    format!("this operation takes {}", taken.join(", "))
                };
                Err(ApiError::bad_parameter(
                    &name,
                    "unknown_parameter",
                    format!("unknown query parameter `{name}`: {takes}"),
                ))
            }
        }
    }
}

/// The name of the first parameter whose name or value is not UTF-8 once
/// percent-decoded (the name decoded leniently, to be shown).
fn not_utf8(query: &str) -> Option<String> {
    if !query.contains('%') {
        return None; // a URI's query is ASCII; only escapes can make other bytes
    }
    query.split('&').find_map(|pair| {
        let utf8 = |part: &str| percent_decode(part.as_bytes()).decode_utf8().is_ok();
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if utf8(name) && utf8(value) {
            return None;
        }
        // Shown as the name check decodes names, leniently.
        form_urlencoded::parse(pair.as_bytes())
            .next()
            .map(|(name, _)| name.into_owned())
    })
}

/// Checks the query against the [`QueryNames`] the application holds as
/// its data (read off the contract it serves, at start).
pub async fn query_check(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !req.query_string().is_empty() {
        let names = req.app_data::<web::Data<QueryNames>>();
        if let (Some(names), Some(pattern)) = (names, req.match_pattern()) {
            if let Err(e) = names.check(req.method(), &pattern, req.query_string()) {
                return Ok(req.error_response(e));
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> QueryNames {
        QueryNames::of(&crate::openapi::openapi())
    }

    fn refused(method: Method, pattern: &str, query: &str) -> Option<(String, String)> {
        names()
            .check(&method, pattern, query)
            .err()
            .map(|e| (e.errors[0].field.clone(), e.errors[0].code.clone()))
    }

    #[test]
    fn a_parameter_the_operation_takes_passes() {
        for q in [
            "",
            "status=active&limit=20",
            "name=%E5%8D%8E&sort=-name&cursor=x",
        ] {
            assert_eq!(refused(Method::GET, "/api/v1/customers", q), None, "{q}");
        }
        assert_eq!(
            refused(Method::HEAD, "/api/v1/customers", "status=active"),
            None
        );
        assert_eq!(
            refused(Method::POST, "/api/v1/customers/import", "dry_run=true"),
            None
        );
    }

    #[test]
    fn a_name_or_value_that_is_not_utf8_is_named() {
        let gbk = Some(("name".to_owned(), "not_utf8".to_owned()));
        assert_eq!(
            refused(
                Method::GET,
                "/api/v1/customers",
                "status=active&name=%D1%E0%BE%A9"
            ),
            gbk
        );
        assert_eq!(
            refused(Method::GET, "/api/v1/customers", "name=%E7%87"),
            gbk,
            "cut short"
        );
        assert_eq!(
            refused(Method::GET, "/api/v1/customers", "na%FFme=x"),
            Some(("na\u{FFFD}me".to_owned(), "not_utf8".to_owned()))
        );
        for fine in [
            "name=%E7%87%95%E4%BA%AC",
            "name=%EF%BF%BD",
            "name=a+b%25",
            "name=",
        ] {
            assert_eq!(
                refused(Method::GET, "/api/v1/customers", fine),
                None,
                "{fine}"
            );
        }
    }

    #[test]
    fn an_unknown_or_mistyped_parameter_is_named() {
        let unknown = Some(("stauts".to_owned(), "unknown_parameter".to_owned()));
        assert_eq!(
            refused(Method::GET, "/api/v1/customers/export", "stauts=archived"),
            unknown
        );
        assert_eq!(
            refused(Method::GET, "/api/v1/customers", "status=active&stauts=x"),
            unknown
        );
        // An empty name is a name no operation takes.
        assert_eq!(
            refused(Method::GET, "/api/v1/customers", "=null&code=0"),
            Some((String::new(), "unknown_parameter".to_owned()))
        );
        // An operation without query parameters takes none.
        assert!(refused(Method::GET, "/api/v1/customers/{id}", "x=1").is_some());
        // A parameter of another method of the same path is not taken.
        assert!(refused(Method::POST, "/api/v1/customers", "status=active").is_some());
    }

    #[test]
    fn what_the_contract_does_not_describe_passes() {
        assert_eq!(refused(Method::GET, "/docs/{_:.*}", "url=x"), None);
        assert_eq!(refused(Method::OPTIONS, "/api/v1/customers", "x=1"), None);
    }
}
