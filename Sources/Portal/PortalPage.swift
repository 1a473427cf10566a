/// Which portal page to render and the data it shows: one case per portal route, so the proxy picks
/// a page by route and the compiler makes sure every page gets its data.
public enum PortalPage: Sendable {
    /// `/auth/signin`: e-mail and password, then on to the page the visitor came for.
    case signIn(SignInPage)
    /// `/auth/signup`: create an account, then on to the dashboard.
    case signUp(SignUpPage)
    /// `/dashboard`: balance, plan, recent history and the 30-day usage chart.
    case dashboard(DashboardPage)
    /// `/dashboard/keys`: list, create and revoke API keys.
    case keys(KeysPage)
    /// `/pricing`: every plan and operation price of the policy; open to visitors who are signed out.
    case pricing(PricingPage)
    /// `/admin`: look up users, grant tokens, change plans (admins only; others get `.forbidden`).
    case admin(AdminPage)
    /// `/workspace`: the Recraftor app in a frame.
    case workspace(WorkspacePage)
    /// 403: the viewer is signed in but may not see the page (e.g. a non-admin on `/admin`).
    case forbidden(Viewer?)
    /// 404: no portal page at this path.
    case notFound(Viewer?)
}

/// A rendered page: the HTTP status to answer with and the HTML body. The proxy adds the headers
/// (`Content-Type`, the Content-Security-Policy, security headers) and sends the bytes.
public struct PortalDocument: Sendable, Equatable {
    /// 200, or 403 / 404 for the error pages.
    public var status: Int
    /// A complete UTF-8 HTML document.
    public var html: String

    public init(status: Int, html: String) {
        self.status = status
        self.html = html
    }

    /// The `Content-Type` to send with `html`.
    public static let contentType = "text/html; charset=utf-8"
}
