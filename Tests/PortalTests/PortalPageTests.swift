import Foundation
import Policy
import Portal
import Testing

/// Every page renders from real ledger data and shows what its users come for.
@Suite("Portal pages: content, navigation and status codes")
struct PortalPageTests {
    let site: PortalSite
    let fixture: LedgerFixture
    let rendered: RenderedSite

    init() throws {
        (site, fixture, rendered) = try renderDefaultSite()
    }

    @Test("Every page is a complete HTML document with landmarks, a skip link and the shared assets")
    func layoutOnEveryPage() {
        for (name, document) in rendered.pages {
            let html = document.html
            #expect(html.hasPrefix("<!DOCTYPE html>"), "\(name)")
            #expect(html.contains("<html lang=\"en\">"), "\(name)")
            #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"), "\(name)")
            #expect(html.contains("<a class=\"skip-link\" href=\"#main\">"), "\(name)")
            #expect(html.contains("<header class=\"site-header\">") && html.contains("<nav class=\"site-nav\" aria-label=\"Main\">"), "\(name)")
            #expect(html.contains("<main id=\"main\""), "\(name)")
            #expect(html.contains("role=\"alert\""), "\(name)")
            #expect(html.contains("href=\"/portal/assets/portal.css?v="), "\(name)")
            #expect(html.contains("<script src=\"/portal/assets/portal.js?v="), "\(name)")
            #expect(html.hasSuffix("</html>\n"), "\(name)")
        }
    }

    @Test("Status: 200 for pages, 403 and 404 for the error pages")
    func statuses() {
        for (name, document) in rendered.pages {
            let expected = name == "forbidden" ? 403 : name == "notFound" ? 404 : 200
            #expect(document.status == expected, "\(name)")
        }
        #expect(PortalDocument.contentType == "text/html; charset=utf-8")
    }

    @Test("Sign-in: labelled email and password, sign-up link, callback kept in the redirect and the link")
    func signIn() {
        let html = rendered["signIn"].html
        #expect(html.contains("<label for=\"signin-email\">Email</label>"))
        #expect(html.contains("id=\"signin-email\" name=\"email\" type=\"email\""))
        #expect(html.contains("<label for=\"signin-password\">Password</label>"))
        #expect(html.contains("autocomplete=\"current-password\""))
        #expect(html.contains("data-api=\"/api/auth/login\" data-method=\"POST\" data-success=\"redirect\" data-redirect=\"/dashboard/keys\""))
        #expect(html.contains("href=\"/auth/signup?callbackUrl=%2Fdashboard%2Fkeys\""))
        #expect(html.contains("<p class=\"notice\" role=\"status\">"))
        // Signed out: no account area, sign-in is the current nav entry.
        #expect(!html.contains("Sign out"))
        #expect(html.contains("<a href=\"/auth/signin\" aria-current=\"page\">Sign in</a>"))
    }

    @Test("Sign-up: optional name, email, password of at least 10 characters said out loud, then the dashboard")
    func signUp() {
        let html = rendered["signUp"].html
        #expect(html.contains("<label for=\"signup-name\">Name <span class=\"optional\">(optional)</span></label>"))
        #expect(html.contains("<label for=\"signup-email\">Email</label>"))
        #expect(html.contains("minlength=\"10\" aria-describedby=\"signup-password-hint\""))
        #expect(html.contains("At least 10 characters."))
        #expect(html.contains("data-api=\"/api/auth/register\""))
        #expect(html.contains("data-redirect=\"/dashboard\""))
        #expect(html.contains("href=\"/auth/signin\">Sign in</a></p>"))
        // The default plan and its allowance come from the policy.
        #expect(html.contains("on the Free plan with 200 tokens a month"))
    }

    @Test("Dashboard: balance, held, available, plan and period end, history with signed deltas")
    func dashboard() {
        let html = rendered["dashboard"].html
        // 200 (free plan's first allocation) + 500 granted − 8 charged.
        #expect(html.contains("<dt>Balance</dt><dd><span class=\"stat-value\">692</span>"))
        #expect(html.contains("<dt>Held</dt><dd><span class=\"stat-value\">0</span>"))
        #expect(html.contains("<dt>Available</dt><dd><span class=\"stat-value\">692</span>"))
        #expect(html.contains("<span class=\"stat-value\">Free</span> 200 tokens a month; renews <time datetime=\"2026-12-01T12:00:00Z\">2026-12-01 12:00 UTC</time>"))
        #expect(html.contains("<td class=\"num delta-negative\">-8</td>"))
        #expect(html.contains("<td class=\"num delta-positive\">+500</td>"))
        #expect(html.contains("<td>Raster generation</td>"))
        #expect(html.contains("<time datetime=\"2026-11-19T12:00:00Z\">2026-11-19 12:00 UTC</time>"))
        #expect(html.contains("Tokens granted <span class=\"memo\">welcome &lt;script&gt;"))
        #expect(html.contains("Welcome back, Ada &lt;script&gt;alert(1)&lt;/script&gt;."))
        #expect(html.contains("<a href=\"/dashboard\" aria-current=\"page\">Dashboard</a>"))
        // Three transactions from sequence 1: nothing older to load.
        #expect(!html.contains("data-history-more"))
    }

    @Test("Dashboard: a history page that does not reach sequence 1 offers older entries from its oldest sequence")
    func dashboardPaging() throws {
        let user = try fixture.ledger.createUser(email: "busy@example.com")
        for day in 1...5 { try fixture.charge(user.id, "vectorization", tokens: 4, at: utc(2026, 11, 10 + day)) }
        let history = try fixture.ledger.history(userId: user.id, limit: 3)
        let page = DashboardPage(viewer: Viewer(account: user), balance: try #require(try fixture.ledger.balance(userId: user.id)),
                                 history: history, usage: [], now: utc(2026, 11, 20))
        let html = site.render(.dashboard(page)).html
        #expect(html.contains("data-history-more data-before=\"\(history.last!.sequence)\""))
        #expect(html.contains("<template id=\"history-row-template\">"))
    }

    @Test("Keys: name, visible prefix, created, status, revoke with a confirmation, create form, one-time secret panel")
    func keys() throws {
        let user = try fixture.ledger.createUser(email: "keys@example.com")
        let active = try fixture.ledger.createAPIKey(userId: user.id, name: "CI pipeline")
        let old = try fixture.ledger.createAPIKey(userId: user.id, name: "Old laptop")
        _ = try fixture.ledger.revokeAPIKey(keyId: old.info.keyId)
        let html = site.render(.keys(KeysPage(viewer: Viewer(account: user), keys: try fixture.ledger.apiKeys(userId: user.id)))).html
        #expect(html.contains("<td>CI pipeline</td>"))
        #expect(html.contains("<code>\(active.info.visiblePrefix)_…</code>"))
        #expect(html.contains("<span class=\"status status-active\">Active</span>"))
        #expect(html.contains("<span class=\"status status-revoked\">Revoked</span>"))
        #expect(html.contains("data-api=\"/api/keys/{id}\" data-id=\"\(active.info.keyId)\" data-method=\"DELETE\""))
        #expect(!html.contains("data-id=\"\(old.info.keyId)\""), "a revoked key has no revoke button")
        #expect(html.contains("data-confirm=\"Revoke the key “CI pipeline”? Programs using it will stop working.\""))
        #expect(html.contains("<label for=\"key-name\">Name</label>"))
        #expect(html.contains("data-api=\"/api/keys\" data-method=\"POST\" data-success=\"key-created\""))
        #expect(html.contains("<div class=\"new-key\" data-new-key hidden>"))
        #expect(html.contains("<label for=\"new-key-secret\">Secret key</label>"))
        #expect(html.contains("readonly"))
        #expect(html.contains("data-copy-target=\"new-key-secret\""))
        // The secret itself is never part of the page.
        #expect(!html.contains(active.key))
        #expect(html.contains("<p class=\"empty\" data-keys-empty hidden>"))
    }

    @Test("Keys: with no keys the empty message shows and the table is hidden")
    func noKeys() throws {
        let user = try fixture.ledger.createUser(email: "nokeys@example.com")
        let html = site.render(.keys(KeysPage(viewer: Viewer(account: user), keys: []))).html
        #expect(html.contains("<div class=\"table-wrap\" data-keys-table hidden>"))
        #expect(html.contains("<p class=\"empty\" data-keys-empty>You have no API keys yet.</p>"))
    }

    @Test("Navigation: Admin only for admins; signed-in pages show the email and a Sign out button")
    func navigation() {
        for name in ["dashboard", "keys", "pricingSignedIn", "workspace", "forbidden"] {
            let html = rendered[name].html
            #expect(html.contains("user@example.com"), "\(name)")
            #expect(html.contains("data-api=\"/api/auth/logout\""), "\(name)")
            #expect(html.contains(">Sign out</button>"), "\(name)")
            #expect(html.contains("<a href=\"/dashboard/keys\""), "\(name)")
            #expect(html.contains("<a href=\"/workspace\""), "\(name)")
            #expect(!html.contains("<a href=\"/admin\""), "\(name): not an admin")
        }
        let admin = rendered["admin"].html
        #expect(admin.contains("<a href=\"/admin\" aria-current=\"page\">Admin</a>"))
        #expect(admin.contains("admin@example.com"))
        let signedOut = rendered["pricing"].html
        #expect(signedOut.contains("<a href=\"/auth/signin\">Sign in</a>"))
        #expect(signedOut.contains("<a href=\"/auth/signup\">Create account</a>"))
        #expect(!signedOut.contains("Sign out"))
    }

    @Test("Admin: lookup by email, grant with reason, plan select; a non-admin gets 403")
    func admin() throws {
        let html = rendered["admin"].html
        #expect(html.contains("<label for=\"admin-email\">Email</label>"))
        #expect(html.contains("data-api=\"/api/admin/users\" data-method=\"GET\""))
        #expect(html.contains("data-api=\"/api/tokens\" data-method=\"PUT\""))
        #expect(html.contains("<input name=\"amount\" type=\"number\" min=\"1\""))
        #expect(html.contains("<input name=\"reason\""))
        #expect(html.contains("data-api=\"/api/admin/users/{id}\" data-method=\"PATCH\""))
        #expect(html.contains("<option value=\"basic\">Basic</option>"))
        #expect(html.contains("role=\"status\""))

        let everyPlan = site.render(.admin(AdminPage(viewer: Viewer(id: UserID(rawValue: 9), email: "root@example.com", role: .admin, plan: "free")))).html
        for plan in ["free", "basic", "professional"] { #expect(everyPlan.contains("<option value=\"\(plan)\">")) }

        let user = Viewer(id: UserID(rawValue: 7), email: "plain@example.com", role: .user, plan: "free")
        let refused = site.render(.admin(AdminPage(viewer: user)))
        #expect(refused.status == 403)
        #expect(!refused.html.contains("/api/admin/users"))
    }

    @Test("Workspace: a titled iframe on the same-origin path, or a notice when the app is not configured")
    func workspace() {
        let html = rendered["workspace"].html
        #expect(html.contains("<iframe class=\"workspace-frame\" src=\"/\" title=\"Recraftor workspace\""))
        #expect(html.contains("<body class=\"page-workspace\">"))
        let missing = rendered["workspaceMissing"].html
        #expect(!missing.contains("<iframe"))
        #expect(missing.contains("The app upstream is not configured"))
        let viewer = Viewer(id: UserID(rawValue: 1), email: "a@example.com", role: .user, plan: "free")
        for foreign in ["https://evil.example/", "//evil.example/", "javascript:alert(1)"] {
            let page = WorkspacePage(viewer: viewer, appURL: foreign)
            #expect(page.appURL == nil)
            #expect(!site.render(.workspace(page)).html.contains("<iframe"))
        }
        #expect(site.render(.workspace(WorkspacePage(viewer: viewer, appURL: "/studio?x=1"))).html.contains("src=\"/studio?x=1\""))
    }

    @Test("Error pages: 403 and 404 explain and offer a way on")
    func errorPages() {
        let forbidden = rendered["forbidden"].html
        #expect(forbidden.contains("<p class=\"error-status\">403</p>"))
        #expect(forbidden.contains("href=\"/dashboard\">Go to your dashboard</a>"))
        let notFound = rendered["notFound"].html
        #expect(notFound.contains("<p class=\"error-status\">404</p>"))
        #expect(notFound.contains("Page not found"))
        #expect(notFound.contains("<a href=\"/auth/signin\">Sign in</a>"))
    }
}
