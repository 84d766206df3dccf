# `cmake --install` (make install PREFIX=...) and the .deb (make package): the binary, its
# agent under libexec (found there at run time), the man page and shell completions written
# by the binary at build time, the docs, and the systemd unit with its credentials template.
include(GNUInstallDirs)
install(CODE "set(STANDBY_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")")
install(CODE "set(STANDBY_BINARY_DIR \"${CMAKE_BINARY_DIR}\")")

set(generated ${CMAKE_BINARY_DIR}/share)
add_custom_command(OUTPUT ${generated}/standby.bash ${generated}/_standby
  COMMAND ${CMAKE_COMMAND} -E make_directory ${generated}
  COMMAND standby completion bash > ${generated}/standby.bash
  COMMAND standby completion zsh > ${generated}/_standby
  DEPENDS standby
  COMMENT "Writing the shell completions")
add_custom_target(standby_completions ALL DEPENDS ${generated}/standby.bash ${generated}/_standby)

install(TARGETS standby RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS standby-agent RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/standby)
install(FILES ${CMAKE_BINARY_DIR}/standby.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${generated}/standby.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME standby)
# zsh reads packages' completions from /usr/share/zsh/vendor-completions and local ones from
# /usr/local/share/zsh/site-functions: chosen by the prefix at install time.
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(zsh_dir "$ENV{DESTDIR}/usr/share/zsh/vendor-completions")
  else()
    set(zsh_dir "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/share/zsh/site-functions")
  endif()
  message(STATUS "Installing: ${zsh_dir}/_standby")
  file(INSTALL "${STANDBY_BINARY_DIR}/share/_standby" DESTINATION "${zsh_dir}")
]])
install(FILES README.md docs/manual.md docs/design.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES docs/examples/standby.toml packaging/standby.env
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The credentials template the .deb's postinst copies (not under doc/: images may drop it).
install(FILES packaging/standby.env DESTINATION ${CMAKE_INSTALL_DATADIR}/standby)
# The unit goes to PREFIX/lib/systemd/system (systemd reads /usr/lib and /usr/local/lib),
# naming the binary under the prefix chosen at install time.
install(CODE [[
  file(READ "${STANDBY_SOURCE_DIR}/packaging/standby.service" unit)
  string(REPLACE "/usr/bin/standby" "${CMAKE_INSTALL_PREFIX}/bin/standby" unit "${unit}")
  set(unit_path "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/standby.service")
  message(STATUS "Installing: ${unit_path}")
  file(WRITE "${unit_path}" "${unit}")
]])

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME standby)
file(READ ${CMAKE_SOURCE_DIR}/src/base/version.h version_header)
string(REGEX MATCH "kStandbyVersion\\[\\] = \"([0-9.]+)\"" _ "${version_header}")
set(CPACK_PACKAGE_VERSION ${CMAKE_MATCH_1})
set(CPACK_PACKAGE_CONTACT "standby maintainers <standby@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps GPU workloads alive on rented, unreliable machines")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, openssh-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "openssh-server, postgresql-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_SOURCE_DIR}/packaging/prerm
    ${CMAKE_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
