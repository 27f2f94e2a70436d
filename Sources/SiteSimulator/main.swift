import ArgumentParser
import Hummingbird
import JSONCore

@main struct SiteSim { static func main() {} }
