import Policy

/// A static file the pages load (stylesheet, script, icon), compiled into the binary and served by
/// the proxy at `PortalSite.assetPathPrefix + name` with `contentType` and `etag`.
public struct PortalAsset: Sendable, Equatable {
    /// The file name under `/portal/assets/`, e.g. `portal.css`.
    public let name: String
    public let bytes: [UInt8]
    /// The `Content-Type` to send, with a charset for text.
    public let contentType: String
    /// A strong validator for `ETag` / `If-None-Match`: the quoted SHA-256 of `bytes` in hex.
    public let etag: String

    init(name: String, bytes: [UInt8], contentType: String) {
        self.name = name
        self.bytes = bytes
        self.contentType = contentType
        self.etag = "\"" + SecretHash.sha256(bytes).hex + "\""
    }
}

/// The embedded assets by name. Pages link them with `?v=<hash prefix>`, so a changed file gets a
/// new URL and the proxy may let browsers cache an asset URL for a long time.
struct PortalAssetCatalog: Sendable {
    static let stylesheet = "portal.css"
    static let script = "portal.js"
    static let icon = "logo.svg"

    /// Every embedded asset, by its file name in `Sources/Portal/Assets` (SwiftPM's `embedInCode`
    /// names each constant after the file).
    static let embedded: [(name: String, bytes: [UInt8], contentType: String)] = [
        (stylesheet, PackageResources.portal_css, "text/css; charset=utf-8"),
        (script, PackageResources.portal_js, "text/javascript; charset=utf-8"),
        (icon, PackageResources.logo_svg, "image/svg+xml"),
    ]

    let assets: [String: PortalAsset]

    init() {
        var assets: [String: PortalAsset] = [:]
        for file in Self.embedded {
            assets[file.name] = PortalAsset(name: file.name, bytes: file.bytes, contentType: file.contentType)
        }
        self.assets = assets
    }

    /// The asset called `name`; a query string (`portal.css?v=…`) is ignored.
    func asset(named name: String) -> PortalAsset? {
        let bare = name.firstIndex(of: "?").map { String(name[..<$0]) } ?? name
        return assets[bare]
    }

    /// `/portal/assets/<name>?v=<first 12 hex digits of the content hash>`.
    func versionedPath(of name: String) -> String {
        let version = assets[name].map { String($0.etag.dropFirst().prefix(12)) } ?? "0"
        return PortalSite.assetPathPrefix + name + "?v=" + version
    }
}
