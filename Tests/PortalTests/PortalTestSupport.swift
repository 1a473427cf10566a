import Foundation
import Policy
import Portal
import Testing

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shipped default policy's text.
func defaultPolicyYAML() throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent("policies/default.yaml"), encoding: .utf8)
}

/// A policy compiled from `yaml` (the default policy unless given).
func loadPolicy(_ yaml: String? = nil) throws -> EdgePolicy {
    try PolicyLoader.parse(yaml: yaml ?? defaultPolicyYAML(), environment: EdgeEnvironment(values: [:]))
}

/// Text that must never reach a page unescaped.
let hostileText = "<script>alert(1)</script>"

/// An instant from UTC calendar fields.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 12, _ minute: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

/// A clock the tests move by hand, so ledger entries land on chosen days.
///
/// `@unchecked Sendable`: `current` is only read and written with `lock` held.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func set(_ date: Date) {
        lock.lock()
        current = date
        lock.unlock()
    }
}

/// A real LMDB ledger in a temporary directory, with the policy's plans and a manual clock: the
/// pages under test render what the ledger really returns.
final class LedgerFixture {
    let directory: String
    let clock: ManualClock
    let ledger: Ledger

    init(policy: EdgePolicy, start: Date = utc(2026, 11, 1)) throws {
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("portal-\(UUID().uuidString.prefix(8))")
        let clock = ManualClock(start)
        self.clock = clock
        ledger = try Ledger.open(directory: directory, settings: LedgerSettings(mapSizeMiB: 32, durable: false),
                                 plans: policy.plans, clock: LedgerClock { clock.now })
    }

    deinit {
        ledger.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Spends `tokens` on `operation` at `time`, as the meter filter does (hold, then charge).
    @discardableResult
    func charge(_ user: UserID, _ operation: String, tokens: Int64, at time: Date, requestId: String = "req-test") throws -> ChargeReceipt {
        clock.set(time)
        let hold = try ledger.hold(userId: user, amount: tokens, requestId: requestId, actor: "session")
        return try ledger.charge(holdId: hold.holdId, operation: operation)
    }
}

/// Every page of the site, rendered with hostile user data wherever a page shows user data.
/// The default policy's site, a ledger fixture, and every page rendered from them.
func renderDefaultSite() throws -> (PortalSite, LedgerFixture, RenderedSite) {
    let policy = try loadPolicy()
    let site = try PortalSite(policy: policy)
    let fixture = try LedgerFixture(policy: policy)
    return (site, fixture, try RenderedSite(site: site, fixture: fixture))
}

struct RenderedSite {
    let pages: [(name: String, document: PortalDocument)]

    init(site: PortalSite, fixture: LedgerFixture) throws {
        let now = utc(2026, 11, 20, 15)
        let admin = try fixture.ledger.createUser(email: "admin@example.com", role: .admin, name: hostileText)
        let user = try fixture.ledger.createUser(email: "user@example.com", name: "Ada \(hostileText)")
        fixture.clock.set(utc(2026, 11, 2))
        _ = try fixture.ledger.grant(userId: user.id, amount: 500, reason: "welcome \(hostileText)", actor: "cli:test")
        try fixture.charge(user.id, "raster_generation", tokens: 8, at: utc(2026, 11, 19), requestId: "req-\(hostileText)")
        _ = try fixture.ledger.createAPIKey(userId: user.id, name: "key \(hostileText)")
        fixture.clock.set(now)
        let viewer = Viewer(account: user), adminViewer = Viewer(account: admin)
        let balance = try #require(try fixture.ledger.balance(userId: user.id))
        let history = try fixture.ledger.history(userId: user.id, limit: 20)
        let usage = try fixture.ledger.usage(userId: user.id, from: utc(2026, 10, 1), to: now)
        let keys = try fixture.ledger.apiKeys(userId: user.id)
        pages = [
            ("signIn", site.render(.signIn(SignInPage(callbackURL: "/dashboard/keys", notice: hostileText)))),
            ("signUp", site.render(.signUp(SignUpPage()))),
            ("dashboard", site.render(.dashboard(DashboardPage(viewer: viewer, balance: balance, history: history, usage: usage, now: now)))),
            ("keys", site.render(.keys(KeysPage(viewer: viewer, keys: keys)))),
            ("pricing", site.render(.pricing(PricingPage(viewer: nil)))),
            ("pricingSignedIn", site.render(.pricing(PricingPage(viewer: viewer)))),
            ("admin", site.render(.admin(AdminPage(viewer: adminViewer, plans: ["free", "basic", hostileText])))),
            ("workspace", site.render(.workspace(WorkspacePage(viewer: viewer, appURL: "/")))),
            ("workspaceMissing", site.render(.workspace(WorkspacePage(viewer: viewer, appURL: nil)))),
            ("forbidden", site.render(.forbidden(viewer))),
            ("notFound", site.render(.notFound(nil))),
        ]
    }

    subscript(name: String) -> PortalDocument {
        pages.first { $0.name == name }?.document ?? PortalDocument(status: 0, html: "")
    }
}

extension String {
    /// Every match of `pattern` (case-insensitive, `.` spans lines), each as its capture groups (group 0 first).
    func matches(of pattern: String) throws -> [[String]] {
        let expression = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive, .dotMatchesLineSeparators])
        let text = self as NSString
        return expression.matches(in: self, range: NSRange(location: 0, length: text.length)).map { match in
            (0..<match.numberOfRanges).map { index in
                let range = match.range(at: index)
                return range.location == NSNotFound ? "" : text.substring(with: range)
            }
        }
    }

    /// How often `needle` occurs.
    func occurrences(of needle: String) -> Int {
        components(separatedBy: needle).count - 1
    }
}
