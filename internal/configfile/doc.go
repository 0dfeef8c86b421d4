// Package configfile reads configuration files into the model of package
// config: the classic mon.cf grammar (with m4) and HCL. Both formats are
// parsed once, fed to the same builder steps and validated there, so a
// problem has one message and one position (Pos + Diagnostic, with a
// hint) whichever format it came from, and every problem of a file is
// reported at once. It also resolves mon's relative paths and writes a
// configuration back out as HCL (`mon convert`).
package configfile
