/// One rate-limit rule: a bucket of `burst` tokens refilled at `ratePerMinute`; a request takes one.
public struct RateLimitRule: Sendable, Equatable {
    public var ratePerMinute: Double
    public var burst: Int

    public init(ratePerMinute: Double, burst: Int) {
        self.ratePerMinute = ratePerMinute
        self.burst = burst
    }
}

/// A token bucket: pure math over an explicit clock (seconds), so tests never sleep.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens available at `updatedAt` (fractional while refilling).
    public private(set) var tokens: Double
    /// When `tokens` was last brought up to date, in the clock's seconds.
    public private(set) var updatedAt: Double

    /// A full bucket at `now`.
    public init(rule: RateLimitRule, now: Double) {
        tokens = Double(rule.burst)
        updatedAt = now
    }

    /// Adds what the rule refilled since `updatedAt`, capped at the burst.
    public mutating func refill(rule: RateLimitRule, now: Double) {
        if now > updatedAt {
            tokens = min(Double(rule.burst), tokens + (now - updatedAt) * rule.ratePerMinute / 60)
            updatedAt = now
        }
    }

    /// Whether a request may take a token now (call `refill` first).
    public var hasToken: Bool { tokens >= 1 }

    /// Takes one token (call only when `hasToken`).
    public mutating func take() { tokens -= 1 }

    /// Whole seconds until one token is available (≥ 1), for `Retry-After`.
    public func secondsUntilToken(rule: RateLimitRule) -> Int {
        max(1, Int((max(0, 1 - tokens) * 60 / rule.ratePerMinute).rounded(.up)))
    }

    /// Whole seconds until the bucket is full again, for `RateLimit-Reset`.
    public func secondsUntilFull(rule: RateLimitRule) -> Int {
        Int((max(0, Double(rule.burst) - tokens) * 60 / rule.ratePerMinute).rounded(.up))
    }

    /// When (clock seconds) the bucket will be full: from then on it is the same as no bucket.
    public func fullAt(rule: RateLimitRule) -> Double {
        updatedAt + max(0, Double(rule.burst) - tokens) * 60 / rule.ratePerMinute
    }
}
