import Host
import ArgumentParser
