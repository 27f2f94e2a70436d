// The JSON types are part of the host's vocabulary (requests, plugins.json, logs).
@_exported import JSONCore
@_exported import Digest
@_exported import ToolProtocol
