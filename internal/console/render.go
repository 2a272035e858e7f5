package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/golive-dev/golive/internal/window"
)

// pageData is what every page template gets; Page holds the page's own view.
type pageData struct {
	Lang  string
	Zone  *time.Location
	User  string
	CSRF  string
	Path  string
	Error string
	Page  any
}

// parsePages parses each page template together with the layout and the
// parts pages share (the files whose names start with "_").
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout.html"}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			shared = append(shared, name)
		}
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		page, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, append(shared, name)...)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", name, err)
		}
		pages[base] = page
	}
	return pages, nil
}

// templateFuncs are bound per page by render (T and when need the viewer's
// language and zone); these are placeholders for parsing.
var templateFuncs = template.FuncMap{
	"T":           func(string) string { return "" },
	"Tf":          func(string, ...any) string { return "" },
	"when":        func(any) string { return "" },
	"span":        func(window.Interval, time.Time) string { return "" },
	"weekday":     func(time.Time) string { return "" },
	"zoneChoices": func() []string { return zoneChoices },
	"rolesOf":     rolesOf,
}

// zoneChoices are the time zones offered to a viewer; the people golive's
// procedures describe work in these.
var zoneChoices = []string{"UTC", "Europe/Berlin", "Europe/London", "Asia/Shanghai", "Asia/Singapore", "America/New_York", "America/Los_Angeles"}

// rolesOf are the roles of the commands that need one, each once.
func rolesOf(commands []command) []string {
	var roles []string
	for _, c := range commands {
		for _, role := range c.Roles {
			if !slices.Contains(roles, role) {
				roles = append(roles, role)
			}
		}
	}
	return roles
}

// render writes page with the viewer's language and time zone.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data pageData) {
	data.Lang = languageOf(r)
	data.Zone = zoneOf(r)
	data.Path = r.URL.RequestURI()
	t, err := s.pages[page].Clone()
	if err == nil {
		t = t.Funcs(template.FuncMap{
			"T":    func(key string) string { return translate(data.Lang, key) },
			"Tf":   func(key string, args ...any) string { return fmt.Sprintf(translate(data.Lang, key), args...) },
			"when": func(t any) string { return formatTime(t, data.Zone) },
			"span": func(i window.Interval, day time.Time) string {
				return formatSpan(i, day, day.AddDate(0, 0, 1), data.Zone)
			},
			"weekday": func(t time.Time) string { return translate(data.Lang, "day"+t.Weekday().String()[:3]) },
		})
		var out bytes.Buffer
		if err = t.Execute(&out, data); err == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Language", data.Lang)
			w.WriteHeader(status)
			_, _ = out.WriteTo(w)
			return
		}
	}
	s.log.Error(err, "Failed to render a page", "page", page)
	http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.render(w, r, status, "error", pageData{Error: message})
}

// zoneCookie keeps the time zone a person chose; without JavaScript the
// browser does not tell its zone, so UTC is the default.
const zoneCookie = "golive_tz"

func zoneOf(r *http.Request) *time.Location {
	if cookie, err := r.Cookie(zoneCookie); err == nil {
		if zone, err := time.LoadLocation(cookie.Value); err == nil {
			return zone
		}
	}
	return time.UTC
}

// formatTime shows an instant in the viewer's zone and in UTC.
func formatTime(value any, zone *time.Location) string {
	var t time.Time
	switch v := value.(type) {
	case time.Time:
		t = v
	case *time.Time:
		if v == nil {
			return "-"
		}
		t = *v
	default:
		return fmt.Sprint(value)
	}
	if t.IsZero() {
		return "-"
	}
	local := t.In(zone).Format("2006-01-02 15:04 MST")
	if zone == time.UTC {
		return local
	}
	return local + " (" + t.UTC().Format("15:04 UTC") + ")"
}

// servePreferences sets the language and time zone a person chose and goes back.
func (s *Server) servePreferences(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	const year = 365 * 24 * time.Hour
	if lang := query.Get("lang"); lang == "en" || lang == "de" || lang == "zh" {
		s.setCookie(w, languageCookie, lang, year)
	}
	if tz := query.Get("tz"); tz != "" {
		if _, err := time.LoadLocation(tz); err == nil {
			s.setCookie(w, zoneCookie, tz, year)
		}
	}
	http.Redirect(w, r, localPath(query.Get("next")), http.StatusSeeOther)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
