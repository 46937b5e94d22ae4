use super::*;

#[test]
fn only_rate_limits_server_errors_timeouts_and_connects_retry() {
    assert!(ErrorKind::RateLimited.is_retryable());
    assert!(ErrorKind::Server.is_retryable());
    assert!(!ErrorKind::QuotaExhausted.is_retryable());
    assert!(!ErrorKind::ContextOverflow.is_retryable());
    assert!(!ErrorKind::Auth.is_retryable());
    assert!(!ErrorKind::BadResponse.is_retryable());
}
