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
            let secured = op["security"].as_array().is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            });
            if secured {
                assert!(
                    responses["401"].is_object() && responses["403"].is_object(),
                    "{method} {path}"
                );
            }
            if op["requestBody"].is_object() {
                for code in ["413", "415", "422"] {
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
