import Dispatch

/// Token buckets per (route class, user) and (route class, client IP), in memory, for one event loop.
///
/// Not thread-safe by design: each event loop owns one, so the hot path takes no lock. Limits are
/// therefore per loop (a client's connection stays on one loop; a client spreading connections over
/// N loops gets up to N× the rate). Bounded: at most `maxBucketsPerLoop` buckets. A bucket that has
/// refilled completely is the same as none, so sweeps (every 60 s, or when the table is full) drop
/// those; if the table is still full, the oldest-inserted buckets go (that key restarts full).
public final class RateLimiter {
    struct Key: Hashable {
        var routeClass: String
        var user: UserID?
        var ip: String?
    }

    struct Entry {
        var bucket: TokenBucket
        var fullAt: Double
    }

    public let settings: RateLimitSettings
    private let clock: () -> Double
    private var buckets: [Key: Entry] = [:]
    private var insertionOrder: [Key] = []
    private var nextSweep: Double
    static let sweepInterval: Double = 60

    /// - Parameters:
    ///   - settings: the compiled classes and bound.
    ///   - clock: monotonic seconds; tests inject their own.
    public init(settings: RateLimitSettings, clock: @escaping () -> Double = RateLimiter.monotonicSeconds) {
        self.settings = settings
        self.clock = clock
        self.nextSweep = clock() + Self.sweepInterval
    }

    /// Monotonic seconds since boot.
    public static func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// How many buckets are held now.
    public var count: Int { buckets.count }

    /// Takes a token from each bucket that applies (per user when `user` is known, per IP when
    /// `ip` is), or from none when any is empty.
    /// - Returns: the decision, with the numbers of the tightest bucket.
    public func check(routeClass: String, user: UserID?, ip: String?) -> RateLimitDecision {
        guard let rules = settings.classes[routeClass] else { return .unlimited }
        let now = clock()
        if now >= nextSweep { sweep(now: now) }
        // At most two buckets apply: (key, rule, bucket brought up to date).
        var applying: [(key: Key, rule: RateLimitRule, bucket: TokenBucket)] = []
        if let rule = rules.perUser, let user {
            let key = Key(routeClass: routeClass, user: user, ip: nil)
            applying.append((key, rule, bucket(key, rule: rule, now: now)))
        }
        if let rule = rules.perIP, let ip {
            let key = Key(routeClass: routeClass, user: nil, ip: ip)
            applying.append((key, rule, bucket(key, rule: rule, now: now)))
        }
        guard !applying.isEmpty else { return .unlimited }
        let allowed = applying.allSatisfy { $0.bucket.hasToken }
        var state: RateLimitState?
        var retry = 1
        for index in applying.indices {
            if allowed { applying[index].bucket.take() }
            let (key, rule, b) = applying[index]
            store(key, b, rule: rule)
            if !b.hasToken && !allowed { retry = max(retry, b.secondsUntilToken(rule: rule)) }
            // Report the bucket with fewer whole tokens left: the one that limits first.
            let s = RateLimitState(limit: rule.burst, remaining: max(0, Int(b.tokens.rounded(.down))), resetSeconds: b.secondsUntilFull(rule: rule))
            if let current = state, current.remaining <= s.remaining { continue }
            state = s
        }
        return allowed ? .allowed(state!) : .limited(state!, retryAfterSeconds: retry)
    }

    private func bucket(_ key: Key, rule: RateLimitRule, now: Double) -> TokenBucket {
        guard var entry = buckets[key] else { return TokenBucket(rule: rule, now: now) }
        entry.bucket.refill(rule: rule, now: now)
        return entry.bucket
    }

    private func store(_ key: Key, _ bucket: TokenBucket, rule: RateLimitRule) {
        let entry = Entry(bucket: bucket, fullAt: bucket.fullAt(rule: rule))
        if buckets.updateValue(entry, forKey: key) == nil {
            insertionOrder.append(key)
            if buckets.count > settings.maxBucketsPerLoop { makeRoom() }
        }
    }

    /// Drops buckets that have refilled completely (they equal a fresh bucket).
    public func sweep(now: Double) {
        nextSweep = now + Self.sweepInterval
        buckets = buckets.filter { $0.value.fullAt > now }
        insertionOrder.removeAll { buckets[$0] == nil }
    }

    private func makeRoom() {
        sweep(now: clock())
        var dropped = 0
        // Drop a batch (1/16 of the bound) so a full table of active buckets is not swept per insert.
        let excess = buckets.count - settings.maxBucketsPerLoop + settings.maxBucketsPerLoop / 16
        while dropped < excess, !insertionOrder.isEmpty {
            buckets[insertionOrder[dropped]] = nil
            dropped += 1
        }
        insertionOrder.removeFirst(dropped)
    }
}

@available(*, unavailable)
extension RateLimiter: Sendable {}
