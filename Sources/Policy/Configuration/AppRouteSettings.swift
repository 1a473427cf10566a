/// The compiled `app:` section: which app paths need a session, and where sign-in lives.
public struct AppRouteSettings: Sendable {
    /// Path prefixes that need a session (matched on segment boundaries: `/admin` takes `/admin` and `/admin/x`, not `/administer`).
    public var protectedPrefixes: [String]
    /// Where HTML requests without a session are redirected (`?callbackUrl=<path>` is appended).
    public var signInPath: String

    public init(protectedPrefixes: [String], signInPath: String) {
        self.protectedPrefixes = protectedPrefixes
        self.signInPath = signInPath
    }

    public static let standard = AppRouteSettings(protectedPrefixes: [], signInPath: "/auth/signin")

    /// Whether `path` (no query) lies under a protected prefix.
    public func protection(of path: String) -> AppPathProtection {
        for prefix in protectedPrefixes where path.hasPrefix(prefix) {
            if path.utf8.count == prefix.utf8.count || prefix.hasSuffix("/") || path.utf8[path.utf8.index(path.utf8.startIndex, offsetBy: prefix.utf8.count)] == UInt8(ascii: "/") {
                return .sessionRequired
            }
        }
        return .public
    }

    /// The sign-in URL that returns to `path` afterwards (`/auth/signin?callbackUrl=%2Fdashboard`).
    public func signInLocation(returningTo path: String) -> String {
        var out = signInPath + "?callbackUrl="
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}

/// Whether an app path needs a session.
public enum AppPathProtection: Sendable, Equatable {
    /// Anyone may fetch it; it passes through untouched.
    case `public`
    /// Only signed-in users: others are sent to sign in (HTML) or get 401.
    case sessionRequired
}
