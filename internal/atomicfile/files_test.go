package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "opstatus")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := WriteFileAtomic(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Errorf("read %q, want %q", b, content)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want only the target", len(entries))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "nodir", "x"), nil, 0o644); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".opstatus.tmp123", ".disabled.tmp9", "opstatus", ".other.tmp1"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	RemoveStaleTemps(dir, "opstatus", "disabled")
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) != 2 || left[0] != ".other.tmp1" || left[1] != "opstatus" {
		t.Errorf("left %q", left)
	}
}

func TestAppendLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	AppendLine(p, "a")
	AppendLine(p, "b c")
	if b, _ := os.ReadFile(p); string(b) != "a\nb c\n" {
		t.Errorf("got %q", b)
	}
}
