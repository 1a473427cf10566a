public enum EdgeProxyVersion { public static let string = "0.1.0" }
