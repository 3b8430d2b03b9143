# Stand-ins for the two module macros an extension calls, written from their documented
# interface (Slicer's CMake/SlicerMacroBuildScriptedModule.cmake and
# CMake/SlicerMacroPythonTesting.cmake): the same keywords, the same refusals (an unknown
# keyword, no NAME, a listed file that does not exist), and the same result for the
# installed tree (scripts and resources keep their paths relative to the module folder,
# under the scripted-modules folder, or under its subfolder named after the source folder
# WITH_SUBDIR, as for a library package), installed the way CTK installs them (below).
# Byte-compiling and ctest registration are left out.

macro(slicerMacroBuildScriptedModule)
  cmake_parse_arguments(MY_SLICER "WITH_GENERIC_TESTS;WITH_SUBDIR;VERBOSE" "NAME" "SCRIPTS;RESOURCES" ${ARGN})
  if(MY_SLICER_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "Unknown keywords given to slicerMacroBuildScriptedModule(): \"${MY_SLICER_UNPARSED_ARGUMENTS}\"")
  endif()
  if(NOT DEFINED MY_SLICER_NAME)
    message(FATAL_ERROR "NAME is mandatory")
  endif()
  set(destination_subdir "")
  if(MY_SLICER_WITH_SUBDIR)
    get_filename_component(destination_subdir "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
    set(destination_subdir "/${destination_subdir}")
  endif()
  # Like ctkMacroCompilePythonScript: the files are copied into the build tree's scripted-modules
  # folder (at build time there; here at configure time), and that build folder is what is
  # installed, whole: without WITH_SUBDIR its contents (NO_INSTALL_SUBDIR), with it the subfolder.
  set(build_dir "${CMAKE_BINARY_DIR}/${Slicer_QTSCRIPTEDMODULES_LIB_DIR}${destination_subdir}")
  foreach(listed_file IN LISTS MY_SLICER_SCRIPTS MY_SLICER_RESOURCES)
    if(NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${listed_file}" AND NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${listed_file}.py")
      message(FATAL_ERROR "slicerMacroBuildScriptedModule given nonexistent file '${listed_file}'")
    endif()
    set(source "${CMAKE_CURRENT_SOURCE_DIR}/${listed_file}")
    if(NOT EXISTS "${source}")
      set(source "${source}.py")
    endif()
    get_filename_component(relative_dir "${listed_file}" DIRECTORY)
    file(COPY "${source}" DESTINATION "${build_dir}/${relative_dir}")
  endforeach()
  if(MY_SLICER_WITH_SUBDIR)
    install(DIRECTORY "${build_dir}" DESTINATION "${Slicer_INSTALL_QTSCRIPTEDMODULES_LIB_DIR}"
      COMPONENT RuntimeLibraries USE_SOURCE_PERMISSIONS)
  else()
    install(DIRECTORY "${build_dir}/" DESTINATION "${Slicer_INSTALL_QTSCRIPTEDMODULES_LIB_DIR}"
      COMPONENT RuntimeLibraries USE_SOURCE_PERMISSIONS)
  endif()
  set_property(GLOBAL APPEND PROPERTY IPV2_SCRIPTED_MODULES ${MY_SLICER_NAME})
endmacro()

function(slicer_add_python_unittest)
  cmake_parse_arguments(MY "" "SCRIPT;TESTNAME_PREFIX" "SLICER_ARGS" ${ARGN})
  if(MY_UNPARSED_ARGUMENTS OR NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${MY_SCRIPT}")
    message(FATAL_ERROR "slicer_add_python_unittest: no script '${MY_SCRIPT}' (${MY_UNPARSED_ARGUMENTS})")
  endif()
endfunction()
