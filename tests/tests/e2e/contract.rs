//! The committed OpenAPI document is what the code generates.

#[test]
fn openapi_document_has_not_drifted() {
    let generated = clientele_http::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is out of date; regenerate it with:\n  cargo run -p clientele-server -- openapi --output openapi/openapi.json"
    );
}

#[test]
fn every_operation_documents_its_errors_with_the_problem_schema() {
    let spec: serde_json::Value =
        serde_json::from_str(&clientele_http::openapi_json()).unwrap_or_default();
    let paths = spec["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.len() >= 15);
    for (path, item) in paths {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            let responses = &op["responses"];
            for code in ["400", "404", "500"] {
                let schema =
                    &responses[code]["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/Problem",
                    "{method} {path} {code}"
                );
            }
            // A bearer token may be refused or fall short; the token
            // endpoint's Basic client fails as OAuth's 401 alone.
            let bearer = op["security"].as_array().is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| r.as_object().is_some_and(|o| o.contains_key("bearer")))
            });
            if bearer {
                assert!(
                    responses["401"].is_object() && responses["403"].is_object(),
                    "{method} {path}"
                );
            }
            if op["requestBody"].is_object() {
                // OAuth answers a token request's bad parameters with 400.
                let oauth =
                    op["operationId"] == "issue_token" || op["operationId"] == "revoke_token";
                for code in ["413", "415", "422"] {
                    if code == "422" && oauth {
                        assert!(responses[code].is_null(), "{method} {path} {code}");
                        continue;
                    }
                    assert!(responses[code].is_object(), "{method} {path} {code}");
                }
            }
            if method == "patch" {
                assert!(
                    responses["412"].is_object() && responses["428"].is_object(),
                    "{method} {path}"
                );
            }
        }
    }
}

#[test]
fn every_reference_in_the_contract_resolves() {
    let spec: serde_json::Value =
        serde_json::from_str(&clientele_http::openapi_json()).unwrap_or_default();
    fn walk(v: &serde_json::Value, refs: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                    refs.push(r.clone());
                }
                m.values().for_each(|x| walk(x, refs));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(&spec, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.trim_start_matches('#');
        assert!(spec.pointer(pointer).is_some(), "unresolved {r}");
    }
}

/// Every link of an answer names an operation of the contract and only
/// parameters that operation has, where it has them, and gives it every
/// path parameter it needs.
#[test]
fn every_link_names_an_operation_and_its_parameters() {
    let spec: serde_json::Value =
        serde_json::from_str(&clientele_http::openapi_json()).unwrap_or_default();
    let mut operations = std::collections::HashMap::new();
    for item in spec["paths"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        for op in item.as_object().into_iter().flat_map(|m| m.values()) {
            if let Some(id) = op["operationId"].as_str() {
                operations.insert(id.to_owned(), op.clone());
            }
        }
    }
    let mut links = 0;
    for op in operations.values() {
        for answer in op["responses"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            for (name, link) in answer["links"].as_object().into_iter().flatten() {
                links += 1;
                let target_id = link["operationId"].as_str().unwrap_or_default();
                let target = operations
                    .get(target_id)
                    .unwrap_or_else(|| panic!("link {name}: no operation {target_id}"));
                let params: Vec<(String, String, bool)> = target["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        (
                            p["in"].as_str().unwrap_or_default().to_owned(),
                            p["name"].as_str().unwrap_or_default().to_owned(),
                            p["required"].as_bool().unwrap_or(false),
                        )
                    })
                    .collect();
                let given: Vec<&String> = link["parameters"]
                    .as_object()
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                // A pointer into the answer's body names properties its schema has.
                for value in link["parameters"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    let Some(pointer) = value
                        .as_str()
                        .and_then(|v| v.strip_prefix("$response.body#"))
                    else {
                        continue;
                    };
                    let mut schema = answer["content"]["application/json"]["schema"].clone();
                    for part in pointer.split('/').skip(1) {
                        while let Some(r) = schema["$ref"].as_str() {
                            schema = spec
                                .pointer(r.trim_start_matches('#'))
                                .cloned()
                                .unwrap_or_default();
                        }
                        schema = if part.parse::<usize>().is_ok() {
                            schema["items"].clone()
                        } else {
                            schema["properties"][part].clone()
                        };
                        assert!(
                            schema.is_object(),
                            "link {name}: {pointer} is not in the answer"
                        );
                    }
                }
                for key in &given {
                    let (place, pname) = key.split_once('.').unwrap_or(("", key));
                    assert!(
                        params.iter().any(|(i, n, _)| i == place && n == pname),
                        "link {name}: {target_id} has no {place} parameter {pname}"
                    );
                }
                for (place, pname, _) in params.iter().filter(|p| p.0 == "path" && p.2) {
                    assert!(
                        given.iter().any(|k| **k == format!("{place}.{pname}")),
                        "link {name}: path parameter {pname} of {target_id} not given"
                    );
                }
            }
        }
    }
    assert!(links >= 20, "{links} links");
}
