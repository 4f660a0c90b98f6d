; Inno Setup script for the Windows installer of mnviewer. NOT BUILT OR TESTED in this
; repository's CI (see packaging/README.md).
;
; On Windows (x64), from the repository root:
;   1. stage and freeze:  python packaging\stage.py --stage build\package\stage --home build\package\home
;                         set MNVIEWER_STAGE=build\package\stage
;                         python -m PyInstaller --noconfirm --distpath dist packaging\mnviewer.spec
;      which gives dist\mnviewer\mnviewer.exe (command line) and mnviewer-gui.exe (no console);
;   2. compile this script:  iscc /DAppVersion=0.1.0 packaging\windows\mnviewer.iss
;      which writes dist\mnviewer-0.1.0-setup.exe.
;
; Everything goes under one folder ({app}), and the uninstaller removes that folder, the Start
; menu entry and the optional desktop icon. Per-user caches (%LOCALAPPDATA%\mnviewer) stay.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6C0E5E39-3B7A-4C43-9E5B-2F1D6F0B7A21}
AppName=mnviewer
AppVersion={#AppVersion}
AppVerName=mnviewer {#AppVersion}
AppPublisher=mnviewer developers
DefaultDirName={autopf}\mnviewer
DefaultGroupName=mnviewer
DisableProgramGroupPage=yes
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=mnviewer-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\mnviewer-gui.exe
UninstallDisplayName=mnviewer {#AppVersion}

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "dist\mnviewer\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\mnviewer"; Filename: "{app}\mnviewer-gui.exe"; Comment: "Live MobileNet classification with OpenVINO"
Name: "{autodesktop}\mnviewer"; Filename: "{app}\mnviewer-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\mnviewer-gui.exe"; Description: "{cm:LaunchProgram,mnviewer}"; Flags: nowait postinstall skipifsilent
