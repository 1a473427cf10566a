/// The compiled `rate_limits:` section: named route classes, each with optional per-user and per-IP rules.
public struct RateLimitSettings: Sendable {
    /// One route class's rules.
    public struct RouteClass: Sendable, Equatable {
        public var perUser: RateLimitRule?
        public var perIP: RateLimitRule?

        public init(perUser: RateLimitRule?, perIP: RateLimitRule?) {
            self.perUser = perUser
            self.perIP = perIP
        }
    }

    /// Classes by name; routes pick one with `rate_limit_class` (default `default`).
    public var classes: [String: RouteClass]
    /// Most buckets one event loop keeps; beyond it idle (full) buckets are dropped first, then the oldest-inserted.
    public var maxBucketsPerLoop: Int

    public init(classes: [String: RouteClass], maxBucketsPerLoop: Int) {
        self.classes = classes
        self.maxBucketsPerLoop = maxBucketsPerLoop
    }

    /// The class name routes use when they name none.
    public static let defaultClass = "default"

    public static let standard = RateLimitSettings(classes: [
        defaultClass: RouteClass(perUser: RateLimitRule(ratePerMinute: 600, burst: 100), perIP: RateLimitRule(ratePerMinute: 1200, burst: 200)),
        "login": RouteClass(perUser: nil, perIP: RateLimitRule(ratePerMinute: 10, burst: 5)),
    ], maxBucketsPerLoop: 100_000)
}
