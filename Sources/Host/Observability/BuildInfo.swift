/// What build is running: `mix2api_build_info{version}` and the `starting` log line, so stable and
/// canary can be told apart on a dashboard. Raised with every release.
public enum BuildInfo {
    public static let version = "0.6.0"
}
