import CurlShims
import DriverKit
import JSONCore
import PluginABI
import SiteProtocol
