import Foundation

/// Where `swift build` put the driver libraries. The test command builds every product first;
/// a missing library is a failed test, never a skipped one.
enum BuildProducts {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["MIX2API_BUILD_DIR"], !dir.isEmpty { return dir }
        // The test bundle lives next to the libraries (.build/<config>/mix2apiPackageTests.xctest).
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = (exe as NSString).deletingLastPathComponent
            if FileManager.default.fileExists(atPath: dir + "/libMockUpstream.so") { return dir }
        }
        return repositoryRoot.appendingPathComponent(".build/debug").path
    }

    static var mockDriver: String { directory + "/libMockUpstream.so" }
    static var cDriver: String { directory + "/libCFixtureDriver.so" }
    static var fixtures: URL { repositoryRoot.appendingPathComponent("Tests/HostTests/Fixtures") }
}
