import Mustache

/// A template that does not parse: which file, and the parser's complaint. `PortalSite.init` throws it.
public struct PortalTemplateError: Error, Sendable, CustomStringConvertible {
    /// The template's file name in `Sources/Portal/Templates`, e.g. `dashboard.mustache`.
    public var template: String
    /// What the Mustache parser reported.
    public var reason: String

    public var description: String { "portal template \(template): \(reason)" }
}

/// The embedded Mustache templates, parsed once. Pages inherit from `layout` (`{{<layout}}`), and
/// `usage_chart` is a partial of the dashboard; both are looked up by name in `library`.
struct PortalTemplates: Sendable {
    /// Every embedded template by its name (the file name without `.mustache`).
    static let embedded: [(name: String, text: [UInt8])] = [
        ("layout", PackageResources.layout_mustache),
        ("usage_chart", PackageResources.usage_chart_mustache),
        ("signin", PackageResources.signin_mustache),
        ("signup", PackageResources.signup_mustache),
        ("dashboard", PackageResources.dashboard_mustache),
        ("keys", PackageResources.keys_mustache),
        ("pricing", PackageResources.pricing_mustache),
        ("admin", PackageResources.admin_mustache),
        ("workspace", PackageResources.workspace_mustache),
        ("error", PackageResources.error_mustache),
    ]

    let library: MustacheLibrary
    let signIn: MustacheTemplate
    let signUp: MustacheTemplate
    let dashboard: MustacheTemplate
    let keys: MustacheTemplate
    let pricing: MustacheTemplate
    let admin: MustacheTemplate
    let workspace: MustacheTemplate
    let error: MustacheTemplate

    init() throws(PortalTemplateError) {
        var parsed: [String: MustacheTemplate] = [:]
        for (name, text) in Self.embedded {
            do {
                parsed[name] = try MustacheTemplate(string: String(decoding: text, as: UTF8.self))
            } catch {
                throw PortalTemplateError(template: name + ".mustache", reason: String(describing: error))
            }
        }
        func page(_ name: String) throws(PortalTemplateError) -> MustacheTemplate {
            guard let template = parsed[name] else {
                throw PortalTemplateError(template: name + ".mustache", reason: "not embedded in the module")
            }
            return template
        }
        library = MustacheLibrary(templates: parsed)
        signIn = try page("signin")
        signUp = try page("signup")
        dashboard = try page("dashboard")
        keys = try page("keys")
        pricing = try page("pricing")
        admin = try page("admin")
        workspace = try page("workspace")
        error = try page("error")
    }

    /// Renders `template` with `context`; partials and the layout come from `library`.
    func render(_ template: MustacheTemplate, _ context: Any) -> String {
        template.render(context, library: library)
    }
}
