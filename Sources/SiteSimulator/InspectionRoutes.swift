import Hummingbird
import JSONCore

/// `/sim/*`: what tests read and reset between cases. No auth, by design: never a real site path.
struct InspectionRoutes: Sendable {
    let state: SimulatorState

    func register(on router: Router<SimContext>) {
        router.get("/sim/stats") { _, _ in HTTPReplies.json(state.stats()) }
        router.post("/sim/reset") { _, _ in
            state.reset()
            return HTTPReplies.json(["ok": true])
        }
        router.post("/sim/expire-tokens") { _, _ in
            state.expireAllTokens()
            return HTTPReplies.json(["ok": true])
        }
    }
}
