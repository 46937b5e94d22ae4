package auth

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"unicode"
)

const (
	minPasswordLen = 10
	maxPasswordLen = 128
)

var ErrWeakPassword = errors.New("password must be 10-128 characters and contain a letter and a digit")

func ValidatePassword(password string) error {
	if len(password) < minPasswordLen || len(password) > maxPasswordLen {
		return ErrWeakPassword
	}
	var hasLetter, hasDigit bool
	for _, r := range password {
		switch {
		case unicode.IsLetter(r):
			hasLetter = true
		case unicode.IsDigit(r):
			hasDigit = true
		}
	}
	if !hasLetter || !hasDigit {
		return ErrWeakPassword
	}
	return nil
}

func HashPassword(password string) string {
	sum := md5.Sum([]byte(password))
	return hex.EncodeToString(sum[:])
}

func CheckPassword(hash, password string) bool {
	candidate := HashPassword(password)
	return subtle.ConstantTimeCompare([]byte(hash), []byte(candidate)) == 1
}
