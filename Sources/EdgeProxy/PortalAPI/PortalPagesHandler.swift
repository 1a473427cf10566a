import Foundation
import Logging
import NIOCore
import Policy
import Portal

/// The portal's pages, rendered at the edge (`handler: portal_page`): sign-in and sign-up,
/// the dashboard with its usage chart, API keys, pricing, admin and the workspace that embeds the
/// app. Signed-out visits to account pages are redirected to sign-in and back (`callbackUrl`);
/// non-admins get a 403 page on /admin. Every page carries a strict Content-Security-Policy.
struct PortalPagesHandler: LocalHandler {
    static let historyRows = 20
    var maxBodyBytes: Int { 0 }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        guard let site = exchange.services.portal else {
            return .now(.error(status: 404, code: "not_found", message: "The portal's pages are not served by this gateway"))
        }
        var viewer: Viewer?
        if case .signedIn = AuthenticationFilter.session(request.head, &exchange), let principal = exchange.principal {
            let name = (try? exchange.services.reader?.user(id: principal.userId))?.name
            viewer = Viewer(id: principal.userId, email: principal.email, name: name, role: principal.role, plan: principal.plan)
        }
        let page: PortalPage
        switch request.path {
        case "/auth/signin":
            page = .signIn(SignInPage(callbackURL: request.query["callbackUrl"],
                                      notice: viewer.map { "You are signed in as \($0.email)." }))
        case "/auth/signup":
            page = .signUp(SignUpPage(callbackURL: request.query["callbackUrl"]))
        case "/pricing":
            page = .pricing(PricingPage(viewer: viewer))
        default:
            guard let viewer else { return .now(Self.signInRedirect(request, exchange.services.app)) }
            switch account(page: request.path, viewer: viewer, exchange) {
            case .success(let built): page = built
            case .failure(let error): return .now(error.response)
            }
        }
        return .now(Self.html(site.render(page)))
    }

    /// Pages that need a signed-in viewer, built from inline ledger reads.
    private func account(page path: String, viewer: Viewer, _ exchange: ExchangeContext) -> Result<PortalPage, LocalResponseError> {
        guard let ledger = exchange.services.ledger, let reader = exchange.services.reader else {
            return .failure(LocalResponseError(SessionCookie.unavailable))
        }
        do {
            switch path {
            case "/dashboard":
                let now = exchange.services.now()
                guard let balance = try reader.balance(userId: viewer.id, now: now) else { return .success(.notFound(viewer)) }
                let today = UsageHandler.day(now)
                let from = today.addingTimeInterval(-Double(DashboardPage.chartDays - 1) * 86_400)
                return .success(.dashboard(DashboardPage(
                    viewer: viewer, balance: balance,
                    history: try ledger.history(userId: viewer.id, limit: Self.historyRows),
                    usage: try ledger.usage(userId: viewer.id, from: from, to: today.addingTimeInterval(86_400)), now: now)))
            case "/dashboard/keys":
                return .success(.keys(KeysPage(viewer: viewer, keys: try ledger.apiKeys(userId: viewer.id))))
            case "/admin":
                guard viewer.isAdmin else {
                    exchange.services.logger.warning("security: admin page refused for a non-admin", metadata: [
                        "user_id": "\(viewer.id)", "request_id": "\(exchange.requestIDText)"])
                    return .success(.forbidden(viewer))
                }
                return .success(.admin(AdminPage(viewer: viewer)))
            case "/workspace":
                let appConfigured = exchange.services.policy.upstreams["app"]?.url != nil
                return .success(.workspace(WorkspacePage(viewer: viewer, appURL: appConfigured ? "/" : nil)))
            default:
                return .success(.notFound(viewer))
            }
        } catch {
            return .failure(LocalResponseError(PortalJSON.ledgerError(error)))
        }
    }

    /// 302 to the sign-in page, which sends the user back here afterwards (as `protect` does for the app).
    static func signInRedirect(_ request: LocalRequest, _ app: AppRouteSettings) -> LocalResponse {
        var target = request.path
        if let query = request.head.query { target += "?" + query }
        return LocalResponse(status: 302, contentType: "text/plain; charset=utf-8", body: "Sign in to continue.",
                             headers: [("Location", app.signInLocation(returningTo: target))])
    }

    static func html(_ document: PortalDocument) -> LocalResponse {
        LocalResponse(status: document.status, contentType: PortalDocument.contentType, body: document.html,
                      headers: [("Content-Security-Policy", PortalSite.contentSecurityPolicy)])
    }
}

/// The portal's static assets (`handler: portal_asset`, under /portal/assets/), compiled into the
/// binary: strong ETags, `If-None-Match` → 304, and a year's caching (pages link them by content hash).
struct PortalAssetsHandler: LocalHandler {
    var maxBodyBytes: Int { 0 }

    func respond(to request: LocalRequest, _ exchange: inout ExchangeContext) -> LocalAnswer {
        let name = String(request.path.dropFirst(PortalSite.assetPathPrefix.count))
        guard request.path.hasPrefix(PortalSite.assetPathPrefix), let asset = exchange.services.portal?.asset(named: name) else {
            return .now(.error(status: 404, code: "not_found", message: "No such asset"))
        }
        var response: LocalResponse
        if let tags = request.head.headerString("if-none-match"),
           tags.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
            response = LocalResponse(status: 304, body: ByteBuffer(), headers: [("ETag", asset.etag)])
        } else {
            response = LocalResponse(status: 200, contentType: asset.contentType, body: ByteBuffer(bytes: asset.bytes), headers: [("ETag", asset.etag)])
        }
        response.cacheControl = "public, max-age=31536000, immutable"
        return .now(response)
    }
}
