package records

import "testing"

func TestUSState(t *testing.T) {
	for _, c := range []struct{ address, want string }{
		{"12 Elm St, Springfield, IL 62704", "IL"},
		{"12 Elm St\nSpringfield, il 62704", "IL"},
		{"300 Main Street, Austin TX 78701-1234, USA", "TX"},
		{"300 Main Street, Austin TX 78701 1234", "TX"},
		{"4 Pine Rd\nPortland, Oregon", "OR"},
		{"77 Hill Rd, Morgantown, West Virginia 26505", "WV"},
		{"1 River Rd, Richmond, Virginia", "VA"},
		{"1600 Pennsylvania Ave NW, Washington, DC 20500", "DC"},
		{"22 Calle Luna, San Juan, PR 00901", "PR"},
		{"5 Lake Dr, Albany, N.Y. 12207", "NY"},
		{"8 Bay St, Seattle, Washington 98101", "WA"},
		{"8 Bay St, Seattle, Washington 98101-2040, United States", "WA"},
		{"10 Grove Ln, Des Moines, Iowa, U.S.A.", "IA"},
		{"3 Harbor Way, Portland, ME", "ME"},
		// Lower-case words that are codes, with no ZIP code or comma to
		// say so, and addresses that name no State.
		{"flat 2, 14 Station Road, Leeds LS1 4DY", ""},
		{"lives with daughter in", ""},
		{"10 Rue de Rivoli, 75001 Paris, France", ""},
		{"", ""},
		{"Apt 4 or", ""},
		{"12 Hill St, District of Washington", ""},
		// A unit, a post office box or another country's postal code
		// before a two-letter word: not a State (TestUSState's units).
		{"5 Main St, Apt IN", ""},
		{"5 Main St\nUnit ME", ""},
		{"12 First St, Unit 3 OR", ""},
		{"PO BOX 44 ME", ""},
		{"123 Main St, Ste 5 DE", ""},
		{"221 King St W, Toronto, ON M5H 1K5, CA", ""},
		{"7 Gandhi Rd, Mumbai 400001, IN", ""},
		// and what stays a State beside them.
		{"PO Box 12, Salem, OR 97301", "OR"},
		{"5 Main St, Apt 4, Boise, ID", "ID"},
		{"Suite 200, 9 Elm St, Dover DE 19901", "DE"},
		// Washington and Georgia by name: only what the address settles
		// (TestUSState's ambiguous names).
		{"1 Main St, Washington, DC 20001", "DC"},
		{"1 Main St, Washington 20001", "DC"},
		{"1 Main St, Washington D.C.", "DC"},
		{"8 Bay St, Seattle, Washington, United States", ""}, // the city is in the US too
		{"1 Main St, Washington", ""},
		{"1 Main St, Washington 27889", ""}, // a town of that name in another State
		{"1 Main St, Seattle, WA", "WA"},
		{"14 Peach St, Atlanta, Georgia 30303", "GA"},
		{"14 Peach St, Savannah, Georgia 31401, USA", "GA"},
		{"14 Peach St, Atlanta, Georgia, USA", "GA"},
		{"14 Peach St, Atlanta, GA", "GA"},
		{"14 Rustaveli Ave, Tbilisi, Georgia", ""},
		{"14 Rustaveli Ave, Tbilisi 0108, Georgia", ""},
		{"14 Peach St, Georgia 10001", ""}, // a ZIP code of New York
	} {
		if got := USState(c.address); got != c.want {
			t.Errorf("USState(%q) = %q, want %q", c.address, got, c.want)
		}
	}
}
