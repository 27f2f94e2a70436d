import Hummingbird
import Logging
import NIOCore
import NIOPosix
public enum HostPlaceholder {}
