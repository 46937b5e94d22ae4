use super::*;

#[test]
fn display_url_drops_query_and_credentials() {
    let url =
        reqwest::Url::parse("https://user:pw@example.com:8443/v1beta/models/x:generateContent?key=SECRET").unwrap();
    assert_eq!(
        display_url(&url),
        "https://example.com:8443/v1beta/models/x:generateContent"
    );
}
