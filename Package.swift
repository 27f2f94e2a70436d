// swift-tools-version:6.1
import PackageDescription

// mix2api: a host server (Sources/Host) that loads upstream drivers (Plugins/*) at run time
// through the C ABI in Sources/PluginABI. Drivers are dynamic libraries; the host never links them.
let package = Package(
    name: "mix2api",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mix2api", targets: ["mix2api"]),
        // Drivers: built to .build/<config>/lib<Name>.so and loaded with dlopen by the host.
        .library(name: "MockUpstream", type: .dynamic, targets: ["MockUpstream"]),
        .library(name: "SelfHostedSite", type: .dynamic, targets: ["SelfHostedSite"]),
        // A faithful stand-in for the model site, for tests, demos and benchmarks.
        .executable(name: "site-sim", targets: ["SiteSimulator"]),
        // A driver written in plain C: proves the ABI is language-neutral (conformance fixture).
        .library(name: "CFixtureDriver", type: .dynamic, targets: ["CFixtureDriver"]),
        // SSE load generator for any OpenAI-compatible URL (bench/run.sh, README "Performance").
        .executable(name: "mix2api-bench", targets: ["Bench"]),
        // The least work any relay does per streamed chunk: the benchmark's CPU floor (bench/run.sh).
        .executable(name: "relay-floor", targets: ["RelayFloor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // The contract: one C header. Everything else is built on top of it.
        .target(name: "PluginABI", path: "Sources/PluginABI", exclude: ["README.md"]),
        // JSON values, a strict parser and a writer: shared by the host and the drivers.
        .target(name: "JSONCore", path: "Sources/JSONCore"),
        // The text tool protocol's streaming detector and block parser (pure; benchmarked).
        .target(name: "ToolProtocol", path: "Sources/ToolProtocol"),
        // SHA-256 for fingerprints (credentials, conversations): no CryptoKit on Linux.
        .target(name: "Digest", path: "Sources/Digest"),
        // Swift conveniences for driver authors (linked statically into each driver, never the host).
        .target(name: "DriverKit", dependencies: ["PluginABI"], path: "Sources/DriverKit"),
        // The file task both scripted test models (mock driver, site simulator) answer.
        .target(name: "ScriptedTasks", path: "Sources/ScriptedTasks"),
        .target(name: "MockUpstream", dependencies: ["DriverKit", "Digest", "ScriptedTasks", "BenchStamp"], path: "Plugins/MockUpstream", exclude: ["README.md"]),
        // libcurl from the system (Debian libcurl4-openssl-dev), plus C shims for its variadic API.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CurlShims", dependencies: ["CCurl"], path: "Sources/CurlShims"),
        // hiredis from the system (Debian libhiredis-dev 0.14): the Redis state backend.
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis", providers: [.apt(["libhiredis-dev"])]),
        // The site's protocol as pure code (SSE reader, chunk decoder, request building, login
        // answers): unit-tested without a network, linked into the site driver.
        .target(name: "SiteProtocol", dependencies: ["JSONCore", "Digest"], path: "Sources/SiteProtocol"),
        .target(
            name: "SelfHostedSite", dependencies: ["DriverKit", "SiteProtocol", "JSONCore", "Digest", "CurlShims"], path: "Plugins/SelfHostedSite",
            exclude: ["README.md"]),
        .executableTarget(
            name: "SiteSimulator",
            dependencies: [
                "JSONCore",
                "ScriptedTasks",
                "BenchStamp",
                "LoopExecutor",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/SiteSimulator"),
        // A Swift task executor over one NIO event loop (the host's requests, site-sim's answers).
        .target(name: "LoopExecutor", dependencies: [.product(name: "NIOCore", package: "swift-nio")], path: "Sources/LoopExecutor"),
        .target(name: "CFixtureDriver", dependencies: ["PluginABI"], path: "Tests/Fixtures/CFixtureDriver"),
        .target(
            name: "Host",
            dependencies: [
                "PluginABI",
                "LoopExecutor",
                "JSONCore",
                "Digest",
                "ToolProtocol",
                "CHiredis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Host"
        ),
        // `mix2api slo` and `mix2api gate`: SLOs from access logs, and the release gate's regression
        // packs against a live deployment. Kept out of Host so the server does not link an HTTP client.
        .target(
            name: "Operate",
            dependencies: ["JSONCore", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Sources/Operate"
        ),
        .executableTarget(
            name: "mix2api",
            dependencies: ["Host", "Operate", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/mix2api"
        ),
        // The timed, stamped answers the benchmark asks upstreams for (site-sim, mock driver, bench).
        .target(name: "BenchStamp", path: "Sources/BenchStamp"),
        // mix2api-bench: open/closed-loop SSE load generator with HDR histograms (NIO, no client library).
        .executableTarget(
            name: "Bench",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                "BenchStamp",
            ],
            path: "Sources/Bench"),
        // relay-floor: a bare epoll byte relay in C, the per-chunk CPU floor bench/run.sh compares with.
        .executableTarget(name: "RelayFloor", path: "Sources/RelayFloor"),
        // The same hot paths as a plain loop, for valgrind --tool=callgrind (README "Performance").
        .executableTarget(
            name: "HotPathsProfile", dependencies: ["ToolProtocol", "SiteProtocol", "JSONCore", "Host", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")], path: "Benchmarks/Profile"),
        // Micro-benchmarks of the per-delta hot paths: `swift package benchmark` (see README).
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                "ToolProtocol", "SiteProtocol", "JSONCore", "Host", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/HotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
        .testTarget(
            name: "HostTests",
            dependencies: [
                "Host", "Operate", "PluginABI", "DriverKit", "SiteProtocol", "Digest", "BenchStamp",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Tests/HostTests",
            resources: [.copy("Fixtures")]
        ),
    ]
)
