// Package auth implements mon's access control: the auth.cf command and
// trap tables (Load, Table), the login methods of the authtype setting
// (Authenticator), and crypt(3)-style password verification
// (VerifyHash). Passwords and hashes are never logged.
package auth
