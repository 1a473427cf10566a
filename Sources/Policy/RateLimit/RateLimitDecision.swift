/// What the rate limiter decided for one request.
public enum RateLimitDecision: Sendable, Equatable {
    /// The class has no rule that applies (e.g. only per-user rules and no user).
    case unlimited
    /// A token was taken; `state` describes the tightest bucket afterwards.
    case allowed(RateLimitState)
    /// No token; nothing was taken. Retry after `retryAfterSeconds` (≥ 1).
    case limited(RateLimitState, retryAfterSeconds: Int)
}

/// The numbers behind the `RateLimit-Limit`, `-Remaining` and `-Reset` headers.
public struct RateLimitState: Sendable, Equatable {
    /// The bucket's size (its burst).
    public var limit: Int
    /// Whole tokens left.
    public var remaining: Int
    /// Seconds until the bucket is full again.
    public var resetSeconds: Int

    public init(limit: Int, remaining: Int, resetSeconds: Int) {
        self.limit = limit
        self.remaining = remaining
        self.resetSeconds = resetSeconds
    }
}
