# deb.mk - `make deb`: the Debian packages of debian/ (owamp-tools-client, owamp-tools-server).
#   make deb    install the missing packaging tools and build dependencies (as root; otherwise
#               print the apt-get command), copy the source tree to $(DEB_DIR)/src, build the
#               binary packages there with dpkg-buildpackage, check them with lintian
# Results in $(DEB_DIR): the .deb files (with -dbgsym .ddeb files), .changes, .buildinfo,
# build.log, lintian.log. A lintian error fails the target; warnings are printed.
# dpkg-buildpackage writes its results into the parent of the tree it builds: building a copy
# keeps them in $(BUILD) instead of the repository's parent folder, and the build from
# whatever is left in the working tree. The copy holds the files git knows (tracked, and
# untracked ones that are not ignored), or, outside git, everything but .git and $(BUILD).
# debian/README.source describes the packages.

DEB_DIR   := $(BUILD)/deb
# No fakeroot: debian/control says Rules-Requires-Root: no.
DEB_TOOLS := dpkg-dev debhelper lintian

.PHONY: deb deb-deps

deb-deps:
	@sh scripts/deps.sh $(DEB_TOOLS)
	@missing=$$(dpkg-checkbuilddeps debian/control 2>&1 | \
	    sed -n 's/.*Unmet build dependencies: //p' | sed 's/([^)]*)//g'); \
	    [ -z "$$missing" ] || sh scripts/deps.sh $$missing

deb: deb-deps
	@v=$$(dpkg-parsechangelog -SVersion); [ "$${v%-*}" = "$(VERSION)" ] || { \
	    echo "deb: debian/changelog is at $$v, VERSION at $(VERSION): add an entry" \
	        "(dch -v $(VERSION)-1)" >&2; exit 1; }
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z -c -o --exclude-standard | grep -zv '^$(BUILD)/' | \
	        tar --null --ignore-failed-read -T - -cf -; \
	else \
	    tar --exclude=./.git --exclude=./$(BUILD) -cf - .; \
	fi | tar -xf - -C $(DEB_DIR)/src
	@echo "deb: dpkg-buildpackage in $(DEB_DIR)/src (log: $(DEB_DIR)/build.log)"
	@cd $(DEB_DIR)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	    -u OWAMP_TOOLS_BUILD dpkg-buildpackage -us -uc -b -Jauto >../build.log 2>&1 || { \
	    tail -30 ../build.log; echo "deb: dpkg-buildpackage failed (log: $(DEB_DIR)/build.log)" >&2; \
	    exit 1; }
	@cd $(DEB_DIR) && ls *.deb && { lintian --fail-on error *.changes >lintian.log 2>&1; rc=$$?; \
	    grep -v 'running with root privileges' lintian.log; \
	    echo "deb: lintian: $$(grep -c '^E:' lintian.log) errors," \
	        "$$(grep -c '^W:' lintian.log) warnings (log: $(DEB_DIR)/lintian.log)"; \
	    exit $$rc; }
