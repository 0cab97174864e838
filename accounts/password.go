package accounts

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"gridline.dev/gridline"
)

// MinPasswordLength is the fewest characters (not bytes) a password may have.
const MinPasswordLength = 10

// argon2id parameters for new hashes: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane),
// which costs tens of milliseconds on the shared two-core machine. Verification reads the
// parameters from the stored hash, so raising them later keeps old passwords working.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

//go:embed common-passwords.txt
var commonPasswordsFile []byte

// common is the set of the commonest passwords, lower-cased.
var common = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsFile))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = true
	}
	return m
}()

// CheckPassword applies the password rules: at least MinPasswordLength characters, not one of the
// commonest passwords, not the username.
func CheckPassword(username, password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return gridline.Errorf(gridline.EInvalid, "the password has %d characters: use at least %d (a few unrelated words make a good one)", n, MinPasswordLength).With("field", "password")
	}
	lower := strings.ToLower(password)
	if common[lower] {
		return gridline.Errorf(gridline.EInvalid, "the password is one of the commonest passwords, which are tried first: choose another").With("field", "password")
	}
	if username != "" && strings.Contains(lower, strings.ToLower(username)) {
		return gridline.Errorf(gridline.EInvalid, "the password contains the username: choose another").With("field", "password")
	}
	return nil
}

// HashPassword hashes password with argon2id and a random salt, in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches hash (a HashPassword string), in constant time.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when the username is unknown, so that an unknown name costs the
// same time as a wrong password and does not tell which names exist.
var dummyHash = func() string {
	h, err := HashPassword("gridline-no-such-account")
	if err != nil {
		panic(err)
	}
	return h
}()
