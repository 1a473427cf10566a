/// What `/auth/signin` shows: where to go after signing in, and an optional notice above the form.
public struct SignInPage: Sendable, Equatable {
    /// A same-origin path; anything else (`//evil.com`, `https://evil.com`) became `/dashboard` in `init`.
    public let callbackURL: String
    /// A short message for the visitor, e.g. "Your session has expired. Please sign in again."
    public var notice: String?

    /// - Parameters:
    ///   - callbackURL: The requested target (the `callbackUrl` query parameter, decoded); validated here.
    ///   - notice: Shown in a status region above the form.
    public init(callbackURL: String? = PortalRedirect.defaultCallbackURL, notice: String? = nil) {
        self.callbackURL = PortalRedirect.callbackURL(callbackURL)
        self.notice = notice
    }
}

/// What `/auth/signup` shows: the registration form, and where to go once the account exists.
public struct SignUpPage: Sendable, Equatable {
    /// A same-origin path (validated in `init`); `/dashboard` unless the visitor came for another page.
    public let callbackURL: String

    /// - Parameter callbackURL: The requested target after registering; validated here.
    public init(callbackURL: String? = PortalRedirect.defaultCallbackURL) {
        self.callbackURL = PortalRedirect.callbackURL(callbackURL)
    }

    /// Shortest password the registration form asks for (the proxy's register endpoint enforces it too).
    public static let minimumPasswordLength = 10
}
