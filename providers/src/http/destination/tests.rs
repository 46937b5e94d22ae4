use super::*;

#[test]
fn destination_is_the_host_reqwest_connects_to() {
    let host = |url: &str| Destination::of(url).map(|d| d.host);
    assert_eq!(host("https://API.OpenAI.com/v1").as_deref(), Some("api.openai.com"));
    assert_eq!(
        host("https://api.openai.com.evil.example/v1").as_deref(),
        Some("api.openai.com.evil.example")
    );
    assert_eq!(host("http://[::1]:8080/v1").as_deref(), Some("[::1]"));
    assert_eq!(
        host("http://2130706433/v1").as_deref(),
        Some("127.0.0.1"),
        "IPv4 forms are normalised"
    );
    assert_eq!(host("not a url"), None);
    assert_eq!(Destination::of("http://h/v1").unwrap().scheme, "http");
}

#[test]
fn private_network_means_this_machine_private_or_link_local_addresses() {
    let private = |url: &str| Destination::of(url).unwrap().is_private_network();
    for url in [
        "http://127.0.0.1:1234",
        "http://localhost:1234",
        "http://LocalHost:1234",
        "http://10.1.2.3",
        "http://172.16.0.1",
        "http://192.168.1.20",
        "http://169.254.1.1",
        "http://[::1]",
        "http://[fd00::1]",
        "http://[fe80::1]",
        "http://[::ffff:192.168.0.1]",
    ] {
        assert!(private(url), "{url}");
    }
    for url in [
        "http://8.8.8.8",
        "http://172.32.0.1",
        "http://example.com",
        "http://localhost.example.com",
        "http://localhost.",
        "http://LOCALHOST./v1",
        "http://[2001:db8::1]",
        "http://[::ffff:8.8.8.8]",
    ] {
        assert!(!private(url), "{url}");
    }
}
