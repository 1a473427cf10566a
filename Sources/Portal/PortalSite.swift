import Mustache
public import Policy

/// The portal's pages and assets for one policy: templates parsed once, plans and prices taken from
/// the policy. Immutable and `Sendable`; build a new site when the policy is reloaded.
public struct PortalSite: Sendable {
    /// Where the proxy serves `asset(named:)`: `/portal/assets/<name>`.
    public static let assetPathPrefix = "/portal/assets/"

    /// The Content-Security-Policy the pages are written for (no inline script, style or handlers;
    /// same-origin frames, fetches and form targets). The proxy sends it with every page.
    public static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
        + "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'self'"

    /// The names of every asset `asset(named:)` serves.
    public static let assetNames: [String] = PortalAssetCatalog.embedded.map(\.name)

    let templates: PortalTemplates
    let catalog: PolicyCatalog
    let assets: PortalAssetCatalog

    /// Parses every template and reads the plans and prices of `policy`.
    ///
    /// - Throws: `PortalTemplateError` when an embedded template does not parse.
    public init(policy: EdgePolicy) throws {
        templates = try PortalTemplates()
        catalog = PolicyCatalog(policy: policy)
        assets = PortalAssetCatalog()
    }

    /// Renders `page` into a complete HTML document and the status to answer with.
    public func render(_ page: PortalPage) -> PortalDocument {
        let layouts = LayoutBuilder(assets: assets)
        switch page {
        case .signIn(let model):
            let layout = layouts.layout(title: "Sign in", page: "signin", viewer: nil, section: .signIn)
            return document(templates.signIn, SignInContext(model, layout: layout))
        case .signUp(let model):
            let layout = layouts.layout(title: "Create account", page: "signup", viewer: nil, section: .signUp)
            return document(templates.signUp, SignUpContext(model, catalog: catalog, layout: layout))
        case .dashboard(let model):
            let layout = layouts.layout(title: "Dashboard", page: "dashboard", viewer: model.viewer, section: .dashboard)
            return document(templates.dashboard, DashboardContext(model, catalog: catalog, layout: layout))
        case .keys(let model):
            let layout = layouts.layout(title: "API keys", page: "keys", viewer: model.viewer, section: .keys)
            return document(templates.keys, KeysContext(model, layout: layout))
        case .pricing(let model):
            let layout = layouts.layout(title: "Pricing", page: "pricing", viewer: model.viewer, section: .pricing)
            return document(templates.pricing, PricingContext(model, catalog: catalog, layout: layout))
        case .admin(let model):
            guard model.viewer.isAdmin else { return render(.forbidden(model.viewer)) }
            let layout = layouts.layout(title: "Admin", page: "admin", viewer: model.viewer, section: .admin)
            return document(templates.admin, AdminContext(model, catalog: catalog, layout: layout))
        case .workspace(let model):
            let layout = layouts.layout(title: "Workspace", page: "workspace", viewer: model.viewer, section: .workspace)
            return document(templates.workspace, WorkspaceContext(model, layout: layout))
        case .forbidden(let viewer):
            let layout = layouts.layout(title: "Access denied", page: "error", viewer: viewer, section: .none)
            return document(templates.error, ErrorContext.forbidden(viewer: viewer, layout: layout), status: 403)
        case .notFound(let viewer):
            let layout = layouts.layout(title: "Page not found", page: "error", viewer: viewer, section: .none)
            return document(templates.error, ErrorContext.notFound(viewer: viewer, layout: layout), status: 404)
        }
    }

    /// The asset served at `assetPathPrefix + name` (a `?v=` query is ignored), or nil for an unknown name.
    public func asset(named name: String) -> PortalAsset? {
        assets.asset(named: name)
    }

    private func document(_ template: MustacheTemplate, _ context: Any, status: Int = 200) -> PortalDocument {
        PortalDocument(status: status, html: templates.render(template, context))
    }
}
