//go:build cgo

package auth

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef char *(*crypt_fn)(const char *, const char *);
static crypt_fn gomon_crypt;

// libcrypt is opened at run time, so building gomon needs no crypt
// headers and a system without libcrypt just lacks these formats.
static int gomon_crypt_init(void) {
	void *h = dlopen("libcrypt.so.1", RTLD_NOW);
	if (!h) h = dlopen("libcrypt.so", RTLD_NOW);
	if (!h) return 0;
	gomon_crypt = (crypt_fn)dlsym(h, "crypt");
	return gomon_crypt != NULL;
}

static char *gomon_call_crypt(const char *key, const char *setting) {
	return gomon_crypt(key, setting);
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

var (
	// crypt(3) returns a static buffer: one call at a time.
	systemCryptMu sync.Mutex
	systemCryptOK = sync.OnceValue(func() bool { return C.gomon_crypt_init() == 1 })
)

// systemCrypt hashes password with setting (a stored hash) using the
// system's crypt(3), for formats gomon does not implement itself, such as
// yescrypt ($y$), Debian's default for /etc/shadow. ok is false when
// libcrypt is not available or rejects the setting.
func systemCrypt(password, setting string) (string, bool) {
	if !systemCryptOK() {
		return "", false
	}
	key, set := C.CString(password), C.CString(setting)
	defer C.free(unsafe.Pointer(set))
	defer func() {
		// Do not leave the password in freed memory.
		b := unsafe.Slice((*byte)(unsafe.Pointer(key)), len(password))
		clear(b)
		C.free(unsafe.Pointer(key))
	}()
	systemCryptMu.Lock()
	defer systemCryptMu.Unlock()
	r := C.gomon_call_crypt(key, set)
	if r == nil {
		return "", false
	}
	out := C.GoString(r)
	// libxcrypt signals an invalid setting with "*0" or "*1".
	return out, len(out) > 0 && out[0] != '*'
}
