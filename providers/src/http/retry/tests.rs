use super::*;
use reqwest::header::{HeaderName, HeaderValue};

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn retry_after_ms_wins_and_may_be_fractional() {
    let h = headers(&[("retry-after-ms", "1500.5"), ("retry-after", "9")]);
    assert_eq!(retry_after(&h), Some(Duration::from_micros(1_500_500)));
}

#[test]
fn retry_after_seconds_integer_and_decimal() {
    assert_eq!(
        retry_after(&headers(&[("retry-after", "7")])),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        retry_after(&headers(&[("retry-after", " 2.5 ")])),
        Some(Duration::from_millis(2500))
    );
}

#[test]
fn retry_after_http_date_is_relative_to_now() {
    let later = SystemTime::now() + Duration::from_secs(120);
    let h = headers(&[("retry-after", &httpdate::fmt_http_date(later))]);
    let d = retry_after(&h).unwrap();
    assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120), "{d:?}");
}

#[test]
fn retry_after_date_in_the_past_is_zero() {
    let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
    assert_eq!(retry_after(&h), Some(Duration::ZERO));
}

#[test]
fn retry_after_garbage_or_negative_is_none() {
    assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
    assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), None);
    assert_eq!(retry_after(&headers(&[("retry-after-ms", "NaN")])), None);
    assert_eq!(retry_after(&HeaderMap::new()), None);
}

#[test]
fn bad_retry_after_ms_falls_back_to_retry_after() {
    let h = headers(&[("retry-after-ms", "x"), ("retry-after", "3")]);
    assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
}

#[test]
fn gemini_retry_delay_in_body() {
    let body = r#"[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}]"#;
    assert_eq!(retry_delay_in_body(body), Some(Duration::from_secs(37)));
    assert_eq!(retry_delay_in_body("{}"), None);
}
