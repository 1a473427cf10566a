/// Decides which redirect targets the portal honours, so a crafted `callbackUrl` can never send a
/// signed-in user to another site (an open redirect). portal.js applies the same rule again.
public enum PortalRedirect {
    /// Where users go after signing in or up when no acceptable callback is given.
    public static let defaultCallbackURL = "/dashboard"

    /// Longest callback accepted; anything longer is not a path the portal links to.
    static let maximumLength = 2048

    /// `path` when it is a same-origin path, else nil.
    ///
    /// A same-origin path starts with `/` but not `//` or `/\` (both mean "another host" to a
    /// browser), and holds no backslash, whitespace or control character: browsers drop tabs and
    /// newlines and read `\` as `/`, which would turn `/\t/evil.com` into `//evil.com`.
    public static func sameOriginPath(_ path: String) -> String? {
        let scalars = path.unicodeScalars
        guard scalars.first == "/", path.utf8.count <= maximumLength else { return nil }
        let second = scalars.dropFirst().first
        guard second != "/" else { return nil }
        for scalar in scalars {
            if scalar == "\\" || scalar.properties.isWhitespace || scalar.properties.generalCategory == .control {
                return nil
            }
        }
        return path
    }

    /// The callback to use: `requested` when it is a same-origin path, else `defaultCallbackURL`.
    public static func callbackURL(_ requested: String?) -> String {
        requested.flatMap(sameOriginPath) ?? defaultCallbackURL
    }
}
