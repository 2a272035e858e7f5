package driver

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writeAtomically writes path through a temporary file in the same directory
// (named with a leading dot, which no ID has) and a rename, so that path is
// either absent, the old file or the complete new one.
func writeAtomically(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// tarDir writes the tree under src to the tar file dst: directories, regular
// files and symlinks, with their modes and modification times.
func tarDir(src, dst string) error {
	return writeAtomically(dst, func(f *os.File) error {
		tw := tar.NewWriter(f)
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, path)
			if err != nil || rel == "." {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			link := ""
			switch {
			case info.Mode()&fs.ModeSymlink != 0:
				if link, err = os.Readlink(path); err != nil {
					return err
				}
			case info.IsDir(), info.Mode().IsRegular():
			default:
				return fmt.Errorf("%s: unsupported file type %v", rel, info.Mode().Type())
			}
			hdr, err := tar.FileInfoHeader(info, link)
			if err != nil {
				return err
			}
			hdr.Name = filepath.ToSlash(rel)
			// Owners are not restored (the driver may not run as root), so
			// record none, which also keeps the archive independent of /etc/passwd.
			hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if !info.Mode().IsRegular() {
				return nil
			}
			in, err := os.Open(path)
			if err != nil {
				return err
			}
			defer in.Close()
			_, err = io.Copy(tw, in)
			return err
		})
		if err != nil {
			return err
		}
		return tw.Close()
	})
}

// untarFile unpacks the tar file src into the existing directory dst. It goes
// through os.Root, so no entry, symlink or not, can write outside dst.
func untarFile(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()

	tr := tar.NewReader(f)
	var dirs []*tar.Header
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(hdr.Name)
		mode := hdr.FileInfo().Mode().Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			// Created writable; its own mode is set at the end, in case it
			// forbids writing the entries that follow.
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, hdr)
		case tar.TypeReg:
			out, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			// Set the mode again: the umask applied to OpenFile's.
			if err := root.Chmod(name, mode); err != nil {
				return err
			}
			if err := root.Chtimes(name, hdr.AccessTime, hdr.ModTime); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unsupported tar entry type %q", hdr.Name, hdr.Typeflag)
		}
	}
	// Directory modes and times last, deepest first: creating their entries
	// changed the times.
	for i := len(dirs) - 1; i >= 0; i-- {
		name := filepath.FromSlash(dirs[i].Name)
		if err := root.Chmod(name, dirs[i].FileInfo().Mode().Perm()); err != nil {
			return err
		}
		if err := root.Chtimes(name, dirs[i].AccessTime, dirs[i].ModTime); err != nil {
			return err
		}
	}
	return nil
}
