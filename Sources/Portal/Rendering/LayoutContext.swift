/// What `layout.mustache` shows around every page: title, navigation, the signed-in account and the
/// asset links. Stored properties only, because templates read values by name through reflection.
struct LayoutContext {
    /// A link of the main navigation.
    struct NavLink {
        let label: String
        let href: String
        /// Marked `aria-current="page"`.
        let current: Bool
    }

    /// The header's account area: who is signed in, next to the Sign out button.
    struct Account {
        let email: String
    }

    let pageTitle: String
    /// `page-<name>`, so the stylesheet can lay out a page (the workspace fills the window).
    let bodyClass: String
    let homeURL: String
    let navLinks: [NavLink]
    let account: Account?
    let stylesheetURL: String
    let scriptURL: String
    let iconURL: String
}

/// The places the main navigation can point at; the current one is marked.
enum NavSection {
    case dashboard, keys, pricing, workspace, admin, signIn, signUp
    /// A page outside the navigation (error pages).
    case none
}

/// Builds the layout for one page: signed-in navigation for a viewer, sign-in/sign-up otherwise.
struct LayoutBuilder {
    let assets: PortalAssetCatalog

    func layout(title: String, page: String, viewer: Viewer?, section: NavSection) -> LayoutContext {
        let links: [(String, String, NavSection)]
        if let viewer {
            var signedIn: [(String, String, NavSection)] = [
                ("Dashboard", "/dashboard", .dashboard),
                ("API keys", "/dashboard/keys", .keys),
                ("Pricing", "/pricing", .pricing),
                ("Workspace", "/workspace", .workspace),
            ]
            if viewer.isAdmin { signedIn.append(("Admin", "/admin", .admin)) }
            links = signedIn
        } else {
            links = [
                ("Pricing", "/pricing", .pricing),
                ("Sign in", "/auth/signin", .signIn),
                ("Create account", "/auth/signup", .signUp),
            ]
        }
        return LayoutContext(
            pageTitle: title,
            bodyClass: "page-\(page)",
            homeURL: viewer == nil ? "/pricing" : "/dashboard",
            navLinks: links.map { LayoutContext.NavLink(label: $0.0, href: $0.1, current: $0.2 == section) },
            account: viewer.map { LayoutContext.Account(email: $0.email) },
            stylesheetURL: assets.versionedPath(of: PortalAssetCatalog.stylesheet),
            scriptURL: assets.versionedPath(of: PortalAssetCatalog.script),
            iconURL: assets.versionedPath(of: PortalAssetCatalog.icon))
    }
}
