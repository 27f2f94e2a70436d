import ArgumentParser
import Foundation
import Host

// Top-level code rather than @main (the subcommands live in files of their own). Called from an
// async function: at top level, `main()` would resolve to ArgumentParser's synchronous entry point.
await Mix2API.start()

/// `mix2api` serves; `mix2api slo` and `mix2api gate` (Sources/Operate) share the binary.
struct Mix2API: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mix2api",
        abstract: "An OpenAI-compatible front for upstream model drivers loaded at run time.",
        subcommands: [Serve.self, SLOCommand.self, GateCommand.self],
        defaultSubcommand: Serve.self)

    static func start() async {
        await main()
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default). Settings come from the environment; see the README.")

    func run() async throws {
        // A closed stdout or client socket is an error code, never a signal that kills the server.
        signal(SIGPIPE, SIG_IGN)
        // Before anything starts an event loop: one loop per CPU this process may run on.
        EventLoopSizing.applyAffinity(environment: ProcessInfo.processInfo.environment)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let executableDirectory = ProcessInfo.processInfo.environment["MIX2API_DRIVER_DIR"] ?? executableDirectory(executable)
        do {
            let server = try HostBootstrap.makeServer(
                processEnvironment: ProcessInfo.processInfo.environment,
                currentDirectory: FileManager.default.currentDirectoryPath,
                executableDirectory: executableDirectory)
            try await server.run { port in
                // One plain line for humans and for scripts that wait for the port.
                print("mix2api listening on \(server.config.host):\(port)")
                fflush(nil)
            }
        } catch let failure as HostBootstrap.Failure {
            FileHandle.standardError.write(Data("mix2api: cannot start: \(failure.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func executableDirectory(_ url: URL) -> String {
        // /proc/self/exe is exact even when started through PATH.
        if let real = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return (real as NSString).deletingLastPathComponent
        }
        return url.deletingLastPathComponent().path
    }
}
