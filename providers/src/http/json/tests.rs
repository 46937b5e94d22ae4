use super::*;
use crate::http::error_from_status;

#[test]
fn a_body_that_is_not_json_is_a_bad_response_naming_the_api() {
    let e = json_body(200, " {\"a\": ", "the X API").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert_eq!(e.status, Some(200));
    assert_eq!(e.body_excerpt.as_deref(), Some("{\"a\":"));
    assert!(
        e.message.starts_with("the server's answer (200) is not valid JSON (")
            && e.message
                .ends_with("): it may have been cut off, or `base_url` may not point at the X API"),
        "{}",
        e.message
    );
    assert_eq!(json_body(200, " [1] ", "the X API").unwrap(), serde_json::json!([1]));
}

#[test]
fn an_error_in_an_ok_body_keeps_the_real_status() {
    let e = reported_with_ok_status(200, error_from_status(503, None, "", None));
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.status, Some(200));
    assert!(
        e.message.starts_with("the server answered 200 but reported an error: "),
        "{}",
        e.message
    );
}

#[test]
fn temperatures_are_written_as_written() {
    assert_eq!(shortest_decimal(0.2), Some(serde_json::json!(0.2)));
    assert_eq!(shortest_decimal(1.0), Some(serde_json::json!(1.0)));
    assert_eq!(shortest_decimal(f32::NAN), None);
}

#[test]
fn lenient_fields_of_another_shape_are_none() {
    #[derive(Deserialize)]
    struct Wire {
        #[serde(default, deserialize_with = "lenient")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "lenient")]
        s: Option<String>,
    }
    let w: Wire = serde_json::from_str(r#"{"n": "x", "s": "ok"}"#).unwrap();
    assert_eq!((w.n, w.s.as_deref()), (None, Some("ok")));
    let w: Wire = serde_json::from_str(r#"{"n": 3}"#).unwrap();
    assert_eq!((w.n, w.s), (Some(3), None));
}
