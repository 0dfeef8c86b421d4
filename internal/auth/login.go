package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// Login methods of the authtype setting (auth.md §4).
const (
	MethodGetpwnam   = "getpwnam"
	MethodShadow     = "shadow"
	MethodUserfile   = "userfile"
	MethodPAM        = "pam"
	MethodTrustLocal = "trustlocal"
)

// Authenticator checks `login USER PASSWORD` against the configured
// methods, in order; the first success wins. It is safe for concurrent
// use: it keeps no per-login state.
type Authenticator struct {
	methods    []string
	userFile   string
	passwdFile string
	shadowFile string
	log        *slog.Logger
}

// CheckMethods validates an authtype method list; it is the one check
// that `mon --check-config`, the daemon's start and a reload all apply.
// "shadow" is an alias of getpwnam (which already reads /etc/shadow; mon's
// shadow never succeeded, Q-AUTH-6). "pam" and unknown methods are
// errors, so that a configuration gomon cannot honour is refused instead
// of silently refusing every login.
func CheckMethods(methods []string, userFile string) error {
	for _, m := range methods {
		switch m {
		case MethodGetpwnam, MethodUserfile, MethodTrustLocal, MethodShadow:
		case MethodPAM:
			return errors.New("authtype pam is not supported: gomon is built without PAM (cgo); use authtype userfile (crypt, bcrypt or htpasswd hashes) or getpwnam instead")
		default:
			return fmt.Errorf("authentication type '%s' not known (known: getpwnam userfile trustlocal shadow)", m)
		}
		if m == MethodUserfile && userFile == "" {
			return errors.New("authtype userfile needs a userfile setting")
		}
	}
	return nil
}

// NewAuthenticator returns the authenticator for an authtype method list
// (default getpwnam), which must pass CheckMethods.
func NewAuthenticator(methods []string, userFile string, log *slog.Logger) (*Authenticator, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := CheckMethods(methods, userFile); err != nil {
		return nil, err
	}
	a := &Authenticator{userFile: userFile, passwdFile: "/etc/passwd", shadowFile: "/etc/shadow", log: log}
	if len(methods) == 0 {
		methods = []string{MethodGetpwnam}
	}
	for _, m := range methods {
		if m == MethodShadow {
			m = MethodGetpwnam
		}
		a.methods = append(a.methods, m)
	}
	return a, nil
}

// Login reports whether user may log in with password from a client at
// peerIP (dotted quad). Failures are logged with mon's messages; the
// password and hashes never are.
func (a *Authenticator) Login(user, password, peerIP string) bool {
	for _, m := range a.methods {
		if user == "" || (password == "" && m != MethodTrustLocal) {
			a.log.Error("an undef username or password supplied")
			continue
		}
		var ok bool
		switch m {
		case MethodGetpwnam:
			ok = a.loginSystem(user, password)
		case MethodUserfile:
			ok = a.loginUserFile(user, password)
		case MethodTrustLocal:
			ok = peerIP == "127.0.0.1"
		}
		if ok {
			a.log.Info("authenticated " + user)
			return true
		}
	}
	return false
}

// loginUserFile checks the user file, re-read on every attempt as mon
// does, so edits take effect without a reload.
func (a *Authenticator) loginUserFile(user, password string) bool {
	users, err := readUserFile(a.userFile)
	if err != nil {
		a.log.Error(fmt.Sprintf("could not open user file '%s': %v", a.userFile, err))
		return false
	}
	hash, found := users[user]
	if !found {
		a.log.Warn(fmt.Sprintf("User '%s' not in file '%s'", user, a.userFile))
		return false
	}
	if !VerifyHash(password, hash) {
		a.log.Warn(fmt.Sprintf("User '%s' gave bad password", user))
		return false
	}
	return true
}

// readUserFile parses a userfile (auth.md §5): "name:HASH" lines, blanks
// around the first ':' ignored, '#' comments, later lines win.
func readUserFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	users := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		name, hash, _ := strings.Cut(line, ":")
		// A hash never ends in blanks; trimming them also accepts files
		// with CRLF line ends.
		users[strings.TrimRight(name, " \t")] = strings.TrimSpace(hash)
	}
	return users, sc.Err()
}

// loginSystem implements getpwnam: the user's hash from /etc/shadow when
// that file is readable and lists the user, else the password field of
// /etc/passwd (usually "x", which never matches). Only local files are
// read; NSS sources such as LDAP are not consulted.
func (a *Authenticator) loginSystem(user, password string) bool {
	pwHash, inPasswd := lookupColonFile(a.passwdFile, user)
	if !inPasswd {
		return false
	}
	if spHash, inShadow := lookupColonFile(a.shadowFile, user); inShadow {
		pwHash = spHash
	}
	return VerifyHash(password, pwHash)
}

// lookupColonFile returns the second field of the line for user in a
// passwd-style file. A missing or unreadable file counts as not found.
func lookupColonFile(path, user string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 3)
		if len(fields) >= 2 && fields[0] == user {
			return fields[1], true
		}
	}
	return "", false
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
