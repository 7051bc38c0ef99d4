package device

import (
	"fmt"
	"strings"
)

// parseMenus reads the menu table; a path may start with an earlier id.
func parseMenus(file string, data []byte) (map[string]string, error) {
	return parseKeyed(file, data, "id", "path", func(id, path string, earlier map[string]string) (string, error) {
		if strings.Contains(id, " ") {
			return "", fmt.Errorf("id %q holds a space", id)
		}
		return menuPath(path, earlier), nil
	})
}

// menuPath replaces a leading menu id ("mbedtls → Certificates").
func menuPath(s string, menus map[string]string) string {
	head, rest, _ := strings.Cut(s, " → ")
	if p, ok := menus[head]; ok {
		if rest == "" {
			return p
		}
		return p + " → " + rest
	}
	return s
}

// parseKconfig reads the option table: each option once, its menu known.
func parseKconfig(file string, data []byte, menus map[string]string) ([]KconfigOption, error) {
	rows, err := parseTSV(file, data, "name", "menu", "prompt", "default", "v4.4", "v5.x", "v6.0", "notes", "source")
	if err != nil {
		return nil, err
	}
	var out []KconfigOption
	seen := map[string]bool{}
	for _, r := range rows {
		f := r.fields
		o := KconfigOption{Name: f[0], Prompt: f[2], Default: optional(f[3]), Notes: optional(f[7]), Source: f[8]}
		switch head, _, _ := strings.Cut(f[1], " → "); {
		case seen[o.Name]:
			return nil, &DataError{file, r.line, fmt.Sprintf("option %s listed twice", o.Name)}
		case strings.HasPrefix(o.Name, "CONFIG_") || strings.ToUpper(o.Name) != o.Name:
			return nil, &DataError{file, r.line, fmt.Sprintf("option %q: write the name in capitals without CONFIG_", o.Name)}
		case menus[head] == "":
			return nil, &DataError{file, r.line, fmt.Sprintf("menu %q does not start with a menus.tsv id", f[1])}
		}
		o.Menu = menuPath(f[1], menus)
		for i, v := range []string{IDFv44, IDFv5, IDFv60} {
			if x := f[4+i]; x != "-" {
				if o.Defaults == nil {
					o.Defaults = map[string]string{}
				}
				o.Defaults[v] = x
			}
		}
		seen[o.Name] = true
		out = append(out, o)
	}
	return out, nil
}
