import Logging
extension LocalHandlerRegistry {
    /// The portal's built-in handlers, by the names routes use with `handler:`:
    /// `auth_register`, `auth_login`, `auth_logout`, `auth_session`, `tokens`, `keys`, `usage`,
    /// `users_me`, `admin_users`, and the portal's pages and assets: `portal_page`, `portal_asset`.
    public static var builtIn: LocalHandlerRegistry {
        var registry = LocalHandlerRegistry.empty
        registry.register("auth_register", RegisterHandler())
        registry.register("auth_login", LoginHandler())
        registry.register("auth_logout", LogoutHandler())
        registry.register("auth_session", SessionHandler())
        registry.register("tokens", TokensHandler())
        registry.register("keys", KeysHandler())
        registry.register("usage", UsageHandler())
        registry.register("users_me", UsersMeHandler())
        registry.register("admin_users", AdminUsersHandler())
        registry.register("portal_page", PortalPagesHandler())
        registry.register("portal_asset", PortalAssetsHandler())
        return registry
    }
}
