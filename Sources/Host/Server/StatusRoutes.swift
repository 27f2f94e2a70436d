import Foundation
import Hummingbird

/// `/v1/models`, `/health` and `/ready`.
struct StatusRoutes: Sendable {
    let host: HostServer

    func models(_ request: Request) -> Response {
        if let denied = host.auth.authorize(request.headers) { return HTTPResponses.openAIError(denied) }
        var names: [String] = []
        for m in host.drivers.routedModels + host.config.modelList where !names.contains(m) { names.append(m) }
        let created = Int(Date().timeIntervalSince1970)
        let data: [JSONValue] = names.map { ["id": .string($0), "object": "model", "created": .number(String(created)), "owned_by": "mix2api"] }
        var out: [UInt8] = []
        JSONWriter.append(["object": "list", "data": .array(data)], to: &out)
        return HTTPResponses.json(out)
    }

    /// Liveness. `degraded` (with the reason) while the state store runs on its fallback, still
    /// 200: the instance serves every request, and a health check that failed here would restart
    /// or unroute every instance at once when the shared Redis goes down.
    func health() -> Response {
        var body = JSONObject([("status", "ok")])
        let status = 200
        if let reason = host.state.degradedReason {
            body["status"] = "degraded"
            body["reason"] = .string(reason)
        }
        body["drivers"] = .array(host.drivers.drivers.values.sorted { $0.name < $1.name }.map {
            ["name": .string($0.name), "reports": .string($0.reportedName), "version": .string($0.buildVersion)]
        })
        var out: [UInt8] = []
        JSONWriter.append(.object(body), to: &out)
        return HTTPResponses.json(out, status: status)
    }

    /// Readiness: 503 while draining for shutdown; `degraded` (200, same reasoning as health)
    /// while state runs on its fallback.
    func ready() -> Response {
        var body = JSONObject([("status", "ready")])
        var status = 200
        if host.isDraining {
            body["status"] = "draining"
            status = 503
        } else if let reason = host.state.degradedReason {
            body["status"] = "degraded"
            body["reason"] = .string(reason)
        }
        var out: [UInt8] = []
        JSONWriter.append(.object(body), to: &out)
        return HTTPResponses.json(out, status: status)
    }
}
