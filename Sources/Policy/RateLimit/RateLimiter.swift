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
        // At most two buckets apply; both are brought up to date before either is taken from.
        let userKey = rules.perUser != nil ? user.map { Key(routeClass: routeClass, user: $0, ip: nil) } : nil
        let ipKey = rules.perIP != nil ? ip.map { Key(routeClass: routeClass, user: nil, ip: $0) } : nil
        var userBucket = userKey.map { bucket($0, rule: rules.perUser!, now: now) }
        var ipBucket = ipKey.map { bucket($0, rule: rules.perIP!, now: now) }
        guard userBucket != nil || ipBucket != nil else { return .unlimited }
        let allowed = (userBucket?.hasToken ?? true) && (ipBucket?.hasToken ?? true)
        var state: RateLimitState?
        var retry = 1
        func settle(_ key: Key?, _ b: inout TokenBucket?, _ rule: RateLimitRule?) {
            guard let key, var current = b, let rule else { return }
            if allowed {
                current.take()
            } else if !current.hasToken {
                retry = max(retry, current.secondsUntilToken(rule: rule))
            }
            b = current
            store(key, current, rule: rule)
            // Report the bucket with fewer whole tokens left: the one that limits first.
            let s = RateLimitState(limit: rule.burst, remaining: max(0, Int(current.tokens.rounded(.down))), resetSeconds: current.secondsUntilFull(rule: rule))
            if state == nil || s.remaining < state!.remaining { state = s }
        }
        settle(userKey, &userBucket, rules.perUser)
        settle(ipKey, &ipBucket, rules.perIP)
        return allowed ? .allowed(state!) : .limited(state!, retryAfterSeconds: retry)
    }

    /// Takes a token from the class's `per_user` bucket for a named subject that need not be a
    /// user — the e-mail address a sign-in names, known or not — so attempts against one account
    /// are limited however many client addresses they come from.
    public func check(routeClass: String, subject: String) -> RateLimitDecision {
        guard let rule = settings.classes[routeClass]?.perUser else { return .unlimited }
        let now = clock()
        if now >= nextSweep { sweep(now: now) }
        let key = Key(routeClass: routeClass, user: nil, ip: "subject:" + subject)
        var current = bucket(key, rule: rule, now: now)
        let allowed = current.hasToken
        let retry = allowed ? 0 : max(1, current.secondsUntilToken(rule: rule))
        if allowed { current.take() }
        store(key, current, rule: rule)
        let state = RateLimitState(limit: rule.burst, remaining: max(0, Int(current.tokens.rounded(.down))), resetSeconds: current.secondsUntilFull(rule: rule))
        return allowed ? .allowed(state) : .limited(state, retryAfterSeconds: retry)
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
