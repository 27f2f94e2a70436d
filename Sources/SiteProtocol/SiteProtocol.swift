// The site protocol as pure code: see the files of this folder.
import JSONCore
