# Stand-in for the sanity checks of Slicer's SlicerExtensionCPack.cmake (packaging itself
# needs a Slicer build), and the extension description it generates from the EXTENSION_*
# variables, written as <Extension>.s4ext in the build folder.
foreach(var EXTENSION_NAME Slicer_REVISION Slicer_OS Slicer_ARCHITECTURE)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "error: ${var} is either NOT defined or empty.")
  endif()
endforeach()
if(NOT "${EXTENSION_NAME}" STREQUAL "${PROJECT_NAME}")
  message(FATAL_ERROR "EXTENSION_NAME [${EXTENSION_NAME}] differs from PROJECT_NAME [${PROJECT_NAME}]: nothing would be packaged")
endif()
foreach(var EXTENSION_README_FILE EXTENSION_LICENSE_FILE)
  if(NOT EXISTS "${${var}}")
    message(FATAL_ERROR "error: ${var} points to an inexistent file: ${${var}}")
  endif()
endforeach()
set(description "")
foreach(key HOMEPAGE CATEGORY CONTRIBUTORS DESCRIPTION ICONURL SCREENSHOTURLS STATUS DEPENDS BUILD_SUBDIRECTORY)
  string(TOLOWER "${key}" name)
  string(APPEND description "${name} ${EXTENSION_${key}}\n")
endforeach()
file(WRITE "${CMAKE_BINARY_DIR}/${EXTENSION_NAME}.s4ext" "${description}")
# The files Slicer's SlicerExtensionCPack.cmake packages as the licence and the readme
# (CPACK_RESOURCE_FILE_LICENSE and CPACK_PACKAGE_DESCRIPTION_FILE, v5.12.3 CMake/SlicerExtensionCPack.cmake 139-140).
file(WRITE "${CMAKE_BINARY_DIR}/CPackResourceFiles.txt"
  "license ${EXTENSION_LICENSE_FILE}\nreadme ${EXTENSION_README_FILE}\n")
